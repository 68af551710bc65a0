// /proc/<pid>/stat and statm as fs/proc/array.c renders them: 52 fields on
// one line, times in 100 Hz ticks, memory in bytes (vsize) and pages (rss),
// signal sets in decimal; and /proc/uptime and /proc/loadavg.
import { describe, expect, it } from "vitest";
import {
  renderLoadavg,
  renderStat,
  renderStatm,
  renderUptime,
} from "../../../src/vkernel/vfs/proc-stat.js";
import { fakeRun } from "./proc-fixture.js";

/** stat's fields, numbered as proc(5) numbers them (1 = pid). */
function fields(stat: string): Map<number, string> {
  expect(stat.endsWith("\n")).toBe(true);
  const words = stat.trimEnd().split(" ");
  return new Map(words.map((word, i) => [i + 1, word]));
}

describe("renderStat", () => {
  it("has the 52 fields of do_task_stat, with what the kernel knows", () => {
    const run = fakeRun();
    const view = run.add(12, { ppid: 3, pgid: 10, sid: 2, comm: "sleep", cpuMs: 1234 });
    view.masks = { pending: 1n << 1n, blocked: 1n << 16n, ignored: 1n << 12n, caught: 1n << 13n };
    const f = fields(renderStat(view));
    expect(f.size).toBe(52);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => f.get(n))).toEqual([
      "12",
      "(sleep)",
      "R",
      "3",
      "10",
      "2",
      "0",
      "-1",
    ]);
    expect(f.get(14)).toBe("123"); // utime: 1.234 s at 100 Hz
    expect(f.get(18)).toBe("20"); // priority
    expect(f.get(20)).toBe("1"); // num_threads
    expect(f.get(22)).toBe("500"); // starttime: 5 s after the run's start, at 100 Hz
    // vsize: the three mappings (3 pages); rss: 3 MiB in pages.
    expect([f.get(23), f.get(24)]).toEqual([String(3 * 4096), "768"]);
    expect(f.get(25)).toBe("18446744073709551615");
    expect([31, 32, 33, 34].map((n) => f.get(n))).toEqual(["2", "65536", "4096", "8192"]);
    expect(f.get(35)).toBe("0"); // wchan: running
    expect(f.get(38)).toBe("17"); // exit_signal
    expect(f.get(52)).toBe("0");
  });

  it("keeps spaces and parentheses of comm inside the parentheses, cut to 15 bytes", () => {
    const view = fakeRun().add(5, { comm: "a (b) c d e f g h" });
    const stat = renderStat(view);
    expect(stat.startsWith("5 (a (b) c d e f g) R ")).toBe(true);
    // Readers split after the last ")" (procps, busybox): 50 fields follow.
    expect(
      stat
        .slice(stat.lastIndexOf(")") + 2)
        .trimEnd()
        .split(" "),
    ).toHaveLength(50);
  });

  it("uses the exe's base name when no command name was set", () => {
    const view = fakeRun().add(5, { comm: "", exe: "/usr/bin/python3.12-debug-build" });
    expect(renderStat(view).startsWith("5 (python3.12-debu) ")).toBe(true);
  });

  it("shows a sleeper as S with wchan 1, and a zombie as Z with no memory and its wait status", () => {
    const run = fakeRun();
    const sleeper = fields(renderStat(run.add(4, { state: "S" })));
    expect([sleeper.get(3), sleeper.get(35)]).toEqual(["S", "1"]);
    const zombie = fields(renderStat(run.add(6, { state: "Z", waitStatus: 9 })));
    expect([3, 9, 23, 24, 52].map((n) => zombie.get(n))).toEqual(["Z", "4", "0", "0", "9"]);
  });
});

describe("renderStatm", () => {
  it("counts pages: size, resident, then text/lib/data/dt", () => {
    const run = fakeRun();
    expect(renderStatm(run.add(2))).toBe("3 768 0 0 0 3 0\n");
    expect(renderStatm(run.add(3, { state: "Z" }))).toBe("0 0 0 0 0 0 0\n");
  });
});

describe("run-wide files", () => {
  it("renders uptime with idle time, and loadavg with runnable/total and the newest pid", () => {
    const run = fakeRun();
    run.add(1, { cpuMs: 500 });
    run.add(4, { state: "S", cpuMs: 0 });
    run.add(8, { state: "Z", cpuMs: 0 });
    run.uptimeMs = 2_000;
    const reader = run.get(1);
    expect(renderUptime(reader)).toBe("2.00 1.50\n");
    expect(renderLoadavg(reader)).toBe("0.00 0.00 0.00 1/3 8\n");
  });
});
