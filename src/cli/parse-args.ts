// A thin wrapper over node:util parseArgs that turns its errors into USAGE errors.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { MegaliftError } from "../errors.js";

export function parseCommandArgs<T extends ParseArgsConfig["options"]>(
  command: string,
  args: readonly string[],
  options: T,
) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("USAGE", `${command}: ${message} (see megalift ${command} --help)`, {
      cause: err,
    });
  }
}
