// The toolchain version: recorded in outputs and part of every cache key.
import { readFileSync } from "node:fs";
import { packageRoot } from "./package-root.js";
import { join } from "node:path";

const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
  version: string;
};

export const TOOL_VERSION: string = pkg.version;
