// Shell scripts that need the vkernel's processes — fork, execve by hash,
// pipes, wait statuses, signals — run by busybox sh natively and in the
// vkernel (test/lift/differential-busybox.test.ts with `exec --root`,
// test/pipeline/transform-busybox.test.ts with `run` on a transformed image).
// Scripts write only under /tmp.

/** The applets the scripts call (a busybox root needs these links). */
export const SHELL_APPLETS = [
  "sh",
  "echo",
  "tr",
  "sort",
  "sed",
  "seq",
  "grep",
  "wc",
  "cat",
  "head",
  "yes",
  "sleep",
  "kill",
  "chmod",
  "printf",
  "true",
  "false",
  "uniq",
  "find",
  "xargs",
  "mkdir",
  "mv",
];

export const SHELL_CASES: readonly (readonly [string, string])[] = [
  ["pipeline", "echo hi | tr a-z A-Z"],
  ["loop into sort", "for i in 1 2 3; do echo $i; done | sort -r"],
  ["command substitution", 'x=$(echo sub | sed s/u/U/); echo "x=$x"'],
  ["and-or lists", "false || echo or; true && echo and; false && echo never; echo $?"],
  ["subshell status", "( exit 5 ); echo status $?"],
  ["three-stage pipeline", "seq 1 5000 | grep 7 | wc -l"],
  [
    "redirections",
    "echo abc > /tmp/f; echo def >> /tmp/f; wc -c < /tmp/f; cat /tmp/f missing 2>&1",
  ],
  ["killed by a signal", "sh -c 'kill -TERM $$'; echo status $?"],
  ["SIGPIPE ends the writer", "yes | head -3"],
  ["sleep", "sleep 0.05; echo slept"],
  ["script by #!", "printf '#!/bin/sh\\necho script $1\\n' > /tmp/s; chmod +x /tmp/s; /tmp/s arg"],
  [
    "a script rewritten, moved and made non-executable",
    "printf '#!/bin/sh\\necho one\\n' > /tmp/r; chmod +x /tmp/r; /tmp/r; " +
      "printf '#!/bin/sh\\necho two\\n' > /tmp/r; /tmp/r; mv /tmp/r /tmp/q; " +
      "/tmp/r 2>/dev/null; echo status $?; /tmp/q; chmod -x /tmp/q; /tmp/q 2>/dev/null; echo status $?",
  ],
  [
    "stopped and continued jobs",
    "sleep 0.2 & p=$!; kill -STOP $p; kill -CONT $p; wait $p; echo status $?; " +
      "sleep 5 & p=$!; kill -STOP $p; kill $p; kill -CONT $p; wait $p; echo status $?",
  ],
  ["exit status", "echo out; exit 3"],
  ["here-document", "cat <<EOF\nline $((1 + 2))\nEOF"],
  ["functions", "f() { echo f:$1; return 4; }; f x; echo status $?"],
  ["traps", "trap 'echo bye' EXIT; trap 'echo got USR1' USR1; kill -USR1 $$; echo after"],
  ["background job and wait", "sleep 0.05 & echo started; wait; echo waited $?"],
  ["wait for a pid", "(exit 6) & wait $!; echo status $?"],
  ["sort of a long pipeline", "seq 1 100000 | sort -rn | head -3"],
  ["six applets in one pipeline", "seq 1 300 | grep 1 | sed s/1/one/ | sort | uniq -c | wc -l"],
  [
    "find into xargs",
    "mkdir -p /tmp/d/e; echo x > /tmp/d/a.conf; echo y > /tmp/d/e/b.conf; find /tmp/d -name '*.conf' | sort | xargs grep -l x",
  ],
];
