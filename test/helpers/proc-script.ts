// What test/lift/differential-busybox.test.ts has lifted busybox read from
// /proc: a background sleep's stat while it sleeps, the reader's own stat,
// the exec-time environment, the pid listing, a zombie's stat and a reaped
// pid — and how to pick the tagged lines out of its output.
import { expect } from "vitest";

/** The applets PROC_SCRIPT calls. */
export const PROC_APPLETS = [
  "sh",
  "sleep",
  "cat",
  "env",
  "tr",
  "ps",
  "pidof",
  "ls",
  "readlink",
  "echo",
];

/**
 * Each line the script prints that matters starts with a tag. A background
 * sleep is looked at while it sleeps; a child of a process that never
 * waits (exec sleep) is looked at as a zombie; the sleep is killed, reaped
 * and looked for again.
 */
export const PROC_SCRIPT = `
sleep 5 &
bg=$!
sleep 1
echo "self $$ bg $bg"
echo "bgstat $(cat /proc/$bg/stat)"
echo "selfstat $(cat /proc/self/stat)"
echo "environ $(env -i A=1 B=two cat /proc/self/environ | tr '\\0' ',')"
echo "cmdline $(tr '\\0' ',' < /proc/$bg/cmdline)"
echo "cwd $(cd /tmp && readlink /proc/self/cwd)"
echo "exe $(readlink /proc/$bg/exe)"
echo "pids $(ls /proc | tr '\\n' ' ')"
echo "pidof $(pidof sleep)"
ps | while read -r line; do echo "ps $line"; done
sh -c 'echo $$ > /tmp/parent; sleep 0.2 & echo $! > /tmp/zombie; exec sleep 2' &
sleep 1
echo "zombie $(cat /proc/$(cat /tmp/zombie)/stat)"
echo "zparent $(cat /tmp/parent)"
kill $bg
wait $bg 2>/dev/null
[ -e /proc/$bg ] && echo "reaped no" || echo "reaped yes"
`;

/** The text after `tag ` on each line that starts with it. */
export function tagged(stdout: string, tag: string): string[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith(`${tag} `))
    .map((line) => line.slice(tag.length + 1));
}

export function only(stdout: string, tag: string): string {
  const lines = tagged(stdout, tag);
  expect(lines, `one "${tag}" line in:\n${stdout}`).toHaveLength(1);
  return lines[0] as string;
}

/** stat's fields 1–8: pid, comm, state, ppid, pgrp, session, tty_nr, tpgid; and how many there are. */
export function statHead(stat: string): { head: string[]; count: number } {
  const close = stat.lastIndexOf(")");
  const rest = stat.slice(close + 2).split(" ");
  const [pid] = stat.split(" ");
  return {
    head: [pid ?? "", stat.slice(stat.indexOf("(") + 1, close), ...rest.slice(0, 6)],
    count: 2 + rest.length,
  };
}
