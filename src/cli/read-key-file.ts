// Reads a PEM key file named on the command line, with the one-line IO error
// every command gives for it.
import { readFile } from "node:fs/promises";
import { MegaliftError } from "../errors.js";

export async function readKeyFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new MegaliftError(
      "IO",
      `cannot read key ${path}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}
