// Differential tests on Debian's busybox-static (a stripped 2 MB static
// binary, installed by scripts/install-tools.sh): each applet runs natively
// and lifted on the same input; stdout, stderr and exit status must be equal.
// The lift (about two minutes here) happens once, in beforeAll, into a cache
// shared by every case.
import { beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chrootCommand, runChrooted, tool } from "../helpers/chroot.js";
import { PROC_APPLETS, PROC_SCRIPT, only, statHead, tagged } from "../helpers/proc-script.js";
import { SHELL_APPLETS, SHELL_CASES } from "../helpers/shell-cases.js";
import { CLI_MAIN as CLI } from "../helpers/cli.js";

const BUSYBOX = "/bin/busybox";
const work = mkdtempSync(join(tmpdir(), "megalift-busybox-"));
const ENV = {
  LANG: "C",
  LC_ALL: "C",
  PATH: "/usr/bin:/bin",
  MEGALIFT_CACHE_DIR: join(work, "cache"),
};
const INPUT = join(work, "input.txt");

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], stdin: string): Run {
  const result = spawnSync(command, args, {
    input: stdin,
    encoding: "utf8",
    env: ENV,
    timeout: 600_000,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const lifted = (args: readonly string[], stdin = ""): Run =>
  run(process.execPath, [CLI, "exec", "--root", "/", BUSYBOX, ...args], stdin);
const native = (args: readonly string[], stdin = ""): Run => run(BUSYBOX, args, stdin);

const TEXT = "pear 3\napple 10\nfig 7\napple 10\nbanana 2\n";

const CASES: readonly (readonly string[])[] = [
  ["echo", "hello", "world"],
  ["cat", INPUT],
  ["wc", INPUT],
  ["sort", INPUT],
  ["sort", "-k2", "-n", INPUT],
  ["uniq", "-c", INPUT],
  ["head", "-2", INPUT],
  ["tail", "-1", INPUT],
  ["tr", "a-z", "A-Z"],
  ["cut", "-d", " ", "-f", "2", INPUT],
  ["sed", "s/apple/APPLE/g", INPUT],
  ["grep", "-n", "an", INPUT],
  ["awk", "{ s += $2 } END { print NR, s }", INPUT],
  ["sha256sum", INPUT],
  ["md5sum", INPUT],
  ["base64", INPUT],
  ["basename", "/a/b/c.txt", ".txt"],
  ["true"],
  ["false"],
  ["cat", join(work, "missing")],
  // glibc's vfprintf computed gotos (byte-indexed jump tables) and strtol/strtod paths.
  ["seq", "1", "5"],
  ["printf", "%d %s|%5.2f|%x\n", "3", "x", "2.5", "255"],
  ["od", "-c", INPUT],
  ["expr", "1", "+", "2"],
];

describe("lifted busybox applets behave like native ones", () => {
  beforeAll(() => {
    writeFileSync(INPUT, TEXT);
    const first = lifted(["true"]);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
  }, 900_000);

  for (const args of CASES) {
    it(args.map((a) => (a.startsWith(work) ? a.slice(work.length + 1) : a)).join(" "), () => {
      const stdin = args.includes(INPUT) || args[0] !== "tr" ? "" : TEXT;
      const expected = native(args, stdin);
      const actual = lifted(args, stdin);
      expect(actual).toEqual(expected);
    });
  }
});

// busybox sh inside a root of busybox applets (as in a busybox image): the
// native shell runs chrooted into that root, the lifted one with the root as
// its filesystem, so both see the same files. The cases need the vkernel's
// processes: fork, execve by hash, pipes, wait statuses, signals.
const ROOT = join(work, "root");
function makeRoot(): void {
  mkdirSync(join(ROOT, "bin"), { recursive: true });
  mkdirSync(join(ROOT, "tmp"), { recursive: true });
  copyFileSync(BUSYBOX, join(ROOT, "bin", "busybox"));
  chmodSync(join(ROOT, "bin", "busybox"), 0o755);
  for (const applet of SHELL_APPLETS) {
    symlinkSync("busybox", join(ROOT, "bin", applet));
  }
}

describe("lifted busybox sh runs pipelines and processes like native", () => {
  const shell = join(ROOT, "bin", "sh");
  const nativeEnv = { ...ENV, PATH: "/bin" };
  beforeAll(() => {
    makeRoot();
    const first = run(process.execPath, [CLI, "exec", "--root", ROOT, shell, "-c", "true"], "");
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
  }, 900_000);

  for (const [name, script] of SHELL_CASES) {
    it(name, () => {
      // Each run gets a fresh /tmp, so files a script writes do not leak between runs.
      const expected = runChrooted(ROOT, ["/bin/sh", "-c", script], nativeEnv);
      rmSync(join(ROOT, "tmp"), { recursive: true, force: true });
      mkdirSync(join(ROOT, "tmp"));
      const actual = run(process.execPath, [CLI, "exec", "--root", ROOT, shell, "-c", script], "");
      expect(actual.stdout).toBe(expected.stdout);
      expect(actual.stderr).toBe(expected.stderr);
      expect(actual.status).toBe(expected.status);
    });
  }

  const limited = (limits: readonly string[], script: string): Run =>
    run(process.execPath, [CLI, "exec", "--root", ROOT, ...limits, shell, "-c", script], "");

  it("refuses memory past --memory with ENOMEM and one line", () => {
    const result = limited(
      ["--memory", "24m"],
      "x=$(head -c 50000000 /dev/zero | tr '\\0' a); echo ${#x}",
    );
    expect(result.stderr).toMatch(
      /megalift: vkernel: sh \(pid \d+\): memory limit of 24\.0 MiB reached/,
    );
    expect(result.stdout).not.toBe("50000000\n");
  });

  it("stops a fork bomb at --pids-limit with EAGAIN and one line", () => {
    // busybox sh gives up the script when fork fails ("can't fork"), as it does natively.
    const result = limited(
      ["--pids-limit", "6"],
      "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.2 & done; wait; echo survived",
    );
    expect(result.stderr).toMatch(
      /^megalift: vkernel: sh \(pid 1\): process limit of 6 reached \(fork: EAGAIN\)\n.*can't fork/s,
    );
    expect(result.stdout).toBe("");
    expect(result.status).toBe(2);
  });

  it("kills every process at --timeout", () => {
    const result = limited(["--timeout", "1s"], "sleep 30 & while :; do :; done");
    expect(result.stderr).toBe(
      "megalift: vkernel: wall-time limit of 1 s reached; every process is killed\n",
    );
    expect(result.status).toBe(137);
  });

  it("refuses descriptors past --nofile with EMFILE", () => {
    const result = limited(["--nofile", "5"], "exec 3</dev/null 4</dev/null 5</dev/null; echo no");
    expect(result.stderr).toMatch(/open-file limit of 5 reached \(EMFILE\)/);
    expect(result.status).not.toBe(0);
  });

  it("passes the host's Ctrl-C (SIGINT) to the guest's processes", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "exec", "--root", ROOT, shell, "-c", "sleep 20; echo never"],
      { env: ENV, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const started = Date.now();
    // Time for node to start and the guest to reach its sleep.
    setTimeout(() => child.kill("SIGINT"), 3000);
    const status = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(status).toBe(130);
    expect(stdout).toBe("");
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it("passes the host's Ctrl-Z (SIGTSTP) to the guest, which may catch it", async () => {
    const script = "trap 'echo caught TSTP; exit 3' TSTP; while :; do :; done";
    const child = spawn(process.execPath, [CLI, "exec", "--root", ROOT, shell, "-c", script], {
      env: ENV,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    let sent = 0;
    setTimeout(() => {
      sent = Date.now();
      child.kill("SIGTSTP");
    }, 3000);
    expect(await new Promise((resolve) => child.on("exit", resolve))).toBe(3);
    expect(stdout).toBe("caught TSTP\n");
    // A computing guest hears the host within a slice or so, not after 64 of
    // them (over 10 s when the scheduler counted rounds alone).
    expect(Date.now() - sent).toBeLessThan(5000);
  }, 30_000);

  it("stops with the guest on the host's Ctrl-Z (SIGTSTP) and goes on when continued", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "exec", "--root", ROOT, shell, "-c", "sleep 4; echo after"],
      { env: ENV, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const state = (): string => readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]![0]!;
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the guest is in its sleep
    child.kill("SIGTSTP");
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past the sleep's end
    // sleep and sh stopped, and megalift with them, as a job of the host's shell.
    expect(state()).toBe("T");
    expect(stdout).toBe("");
    child.kill("SIGCONT");
    expect(await exited).toBe(0);
    expect(stdout).toBe("after\n");
  }, 30_000);

  it("runs other processes while one waits for the host's stdin", async () => {
    // The input is written only once the background job has ticked three
    // times: a read of stdin that held up the whole run never gets there.
    const script =
      "i=0; (while [ $i -lt 3 ]; do echo tick; i=$((i+1)); sleep 0.05; done) & " +
      "read line; echo got $line; wait; echo done";
    const child = spawn(process.execPath, [CLI, "exec", "--root", ROOT, shell, "-c", script], {
      env: ENV,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout === "tick\ntick\ntick\n") child.stdin.end("input\n");
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(stderr).toBe("");
    expect(stdout).toBe("tick\ntick\ntick\ngot input\ndone\n");
    expect(status).toBe(0);
  }, 60_000);

  it("times out a poll of stdin that gets no input, as natively", async () => {
    const script = "read -t 0.2 line; echo status $?; echo line=$line";
    const once = async (command: string, args: string[]): Promise<string> => {
      const child = spawn(command, args, { env: ENV, stdio: ["pipe", "pipe", "inherit"] });
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      await new Promise((resolve) => child.on("exit", resolve));
      child.stdin.end();
      return stdout;
    };
    const lifted = await once(process.execPath, [CLI, "exec", "--root", ROOT, shell, "-c", script]);
    const native = await once(...chrootCommand(ROOT, ["/bin/sh", "-c", script]));
    expect(native).toMatch(/^status [1-9]\d*\nline=\n$/);
    expect(lifted).toBe(native);
  }, 60_000);

  it("writes everything to a host pipe that fills up while its reader sleeps", () => {
    const big = join(work, "big.txt");
    writeFileSync(big, "0123456789abcdef\n".repeat(1 << 18)); // 4.5 MB: many pipe buffers
    const command = `${process.execPath} ${CLI} exec --root / ${BUSYBOX} cat ${big} | (sleep 1; wc -c)`;
    const result = spawnSync(tool("sh"), ["-c", command], { encoding: "utf8", env: ENV });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe(String(17 << 18));
  }, 60_000);

  it("gives the host terminal's termios to the guest and restores it after the run", () => {
    // script(1) runs each command on a pseudo-terminal; stty -g prints termios in hex.
    symlinkSync("busybox", join(ROOT, "bin", "stty"));
    const guest = "stty -g; stty -echo -icanon; stty -g";
    const onTerminal = (command: string): string[] => {
      const r = spawnSync(tool("script"), ["-qec", command, "/dev/null"], {
        encoding: "utf8",
        env: ENV,
      });
      expect(r.status).toBe(0);
      return r.stdout.replaceAll("\r", "").trim().split("\n");
    };
    const [hostBefore, guestBefore, guestAfter, hostAfter] = onTerminal(
      `${tool("stty")} -g; ${process.execPath} ${CLI} exec --root ${ROOT} ${shell} -c '${guest}'; ${tool("stty")} -g`,
    );
    const [nativeBefore, nativeAfter] = onTerminal(
      `${tool("chroot")} ${ROOT} /bin/sh -c '${guest}'`,
    );
    expect(hostBefore).toMatch(/^[0-9a-f]+(:[0-9a-f]+){35}$/);
    expect(guestBefore).toBe(nativeBefore);
    expect(guestAfter).toBe(nativeAfter);
    expect(guestAfter).not.toBe(guestBefore);
    expect(hostAfter).toBe(hostBefore);
  }, 60_000);

  it("is not a terminal to the guest when the host's stdio is not one", () => {
    const result = run(
      process.execPath,
      [CLI, "exec", "--root", ROOT, shell, "-c", "stty -g; echo status $?"],
      "",
    );
    expect(result.stdout).toBe("status 1\n");
    expect(result.stderr).toBe("stty: standard input: Inappropriate ioctl for device\n");
  });

  it("never runs a file whose hash cannot be lifted (the hash-failure policy)", () => {
    // A dynamically linked program is not a static x86-64 ELF: execve refuses it.
    copyFileSync(process.execPath, join(ROOT, "bin", "dynamic"));
    chmodSync(join(ROOT, "bin", "dynamic"), 0o755);
    const result = run(
      process.execPath,
      [CLI, "exec", "--root", ROOT, shell, "-c", "exec dynamic"],
      "",
    );
    expect(result.stderr).toMatch(
      /^megalift: \/bin\/dynamic: blake3:[0-9a-f]{64} cannot be lifted \(.*dynamically linked.*\); it is never executed\n/,
    );
    expect(result.status).not.toBe(0);
  });
});

/** busybox sh run lifted in the busybox root; the status and output. */
function liftedShell(script: string): Run {
  return run(
    process.execPath,
    [CLI, "exec", "--root", ROOT, join(ROOT, "bin", "sh"), "-c", script],
    "",
  );
}

describe("lifted busybox reads /proc", () => {
  let stdout = "";
  let self = "";
  let bg = "";
  beforeAll(() => {
    for (const applet of PROC_APPLETS) {
      if (!existsSync(join(ROOT, "bin", applet))) symlinkSync("busybox", join(ROOT, "bin", applet));
    }
    const run = liftedShell(PROC_SCRIPT);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    stdout = run.stdout;
    const ids = only(stdout, "self").split(" ");
    [self, bg] = [ids[0] as string, ids[2] as string];
  }, 900_000);

  it("shows a sleeping background child's stat: pid, comm, S, parent, group, session", () => {
    const { head, count } = statHead(only(stdout, "bgstat"));
    expect(count).toBe(52);
    expect(head).toEqual([bg, "sleep", "S", self, self, self, "0", "-1"]);
  });

  it("shows the reader's own stat as running, a child of the shell", () => {
    const { head, count } = statHead(only(stdout, "selfstat"));
    expect(count).toBe(52);
    expect(head.slice(1, 6)).toEqual(["cat", "R", self, self, self]);
  });

  it("gives environ as execve set it, cmdline, cwd and exe", () => {
    expect(only(stdout, "environ")).toBe("A=1,B=two,");
    expect(only(stdout, "cmdline")).toBe("sleep,5,");
    expect(only(stdout, "cwd")).toBe("/tmp");
    // exe is the file that runs, symlinks followed, as on Linux.
    expect(only(stdout, "exe")).toBe("/bin/busybox");
  });

  it("lists the run's pids, which ps and pidof find", () => {
    const pids = only(stdout, "pids").trim().split(" ");
    expect(pids).toEqual(expect.arrayContaining([self, bg, "self", "uptime"]));
    expect(only(stdout, "pidof")).toBe(bg);
    const ps = tagged(stdout, "ps");
    expect(ps[0]?.split(/\s+/)).toEqual(["PID", "USER", "COMMAND"]);
    expect(ps).toContainEqual(expect.stringMatching(new RegExp(`^${bg} 0 +sleep 5$`)));
    expect(ps).toContainEqual(expect.stringMatching(new RegExp(`^${self} 0 +/.*/bin/sh -c`)));
  });

  it("shows a child nobody waited for as a zombie, and a reaped one not at all", () => {
    const { head, count } = statHead(only(stdout, "zombie"));
    expect(count).toBe(52);
    expect(head.slice(1, 4)).toEqual(["sleep", "Z", only(stdout, "zparent")]);
    expect(only(stdout, "reaped")).toBe("yes");
  });
});
