// The command table lists commands without loading them; each entry must load
// the command it names, and the CLI's help must reach every command.
import { describe, expect, it } from "vitest";
import { COMMANDS, renderHelp } from "../../src/cli/commands.js";
import { runCli } from "../helpers/cli.js";

describe("the command table", () => {
  it("loads, for each entry, a command of the same name with its own help", async () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.help).toMatch(new RegExp(`^Usage: megalift ${entry.name}\\b`));
      expect(renderHelp()).toContain(`  ${entry.name}`);
      expect(renderHelp()).toContain(entry.summary);
    }
  });

  it("prints a command's help for `help NAME` and `NAME --help`, and rejects an unknown name", () => {
    const viaHelp = runCli(["help", "exec"]);
    expect(viaHelp.status).toBe(0);
    expect(viaHelp.stdout).toMatch(/^Usage: megalift exec --root DIR PROGRAM/);
    expect(runCli(["lift", "--help"]).stdout).toMatch(/^Usage: megalift lift /);
    const unknown = runCli(["frobnicate"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
