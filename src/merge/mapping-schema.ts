// Validates mapping.json documents against schemas/mapping.schema.json with
// ajv. The schema ships with the package and is compiled once, on first use.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { MegaliftError } from "../errors.js";
import { packageRoot } from "../package-root.js";

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  if (validator) return validator;
  const path = join(packageRoot(), "schemas", "mapping.schema.json");
  const ajv = new Ajv({ strict: true, allErrors: false, verbose: true });
  validator = ajv.compile(JSON.parse(readFileSync(path, "utf8")) as object);
  return validator;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "the document" : error.instancePath;
  const parent: unknown = error.parentSchema;
  const title =
    typeof parent === "object" && parent !== null && "title" in parent ? parent.title : undefined;
  if (error.keyword === "pattern" && typeof title === "string") {
    return `${where} is ${JSON.stringify(error.data)}, which is not ${title}`;
  }
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty?: string }).missingProperty ?? "?";
    return `${where} lacks the required property "${missing}"`;
  }
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty?: string }).additionalProperty ?? "?";
    return `${where} has the unknown property "${extra}"`;
  }
  return `${where} ${error.message ?? "is invalid"}`;
}

/** Throws MAPPING_INVALID naming the first schema error unless `doc` is a mapping document. */
export function validateMappingDocument(doc: unknown, what = "mapping.json"): void {
  const check = validate();
  if (check(doc)) return;
  const first = check.errors?.[0];
  throw new MegaliftError(
    "MAPPING_INVALID",
    `invalid mapping (${what}): ${first ? describe(first) : "fails its schema"}`,
  );
}
