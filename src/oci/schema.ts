// Parses and validates OCI and Docker JSON documents (manifests, indexes,
// configs, the oci-layout file) against the JSON Schemas in schemas/oci/.
// One Ajv instance, schemas read from disk and compiled once, on first use.
// Nothing from a source is trusted until it passes through here.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from "ajv";
import { MegaliftError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { MediaType } from "./media-types.js";
import type { ImageConfig, ImageIndexManifest, ImageManifest } from "./types.js";

const SCHEMA_BASE = "https://megalift.dev/schemas/oci/";

/** The schemas megalift validates with, by file name (without .json). */
export type SchemaName =
  | "descriptor"
  | "image-manifest"
  | "image-index"
  | "image-config"
  | "docker-manifest"
  | "docker-manifest-list"
  | "oci-layout"
  | "docker-archive-manifest";

/** Human names for documents, used in error messages. */
const DOCUMENT_NAME: Record<SchemaName, string> = {
  descriptor: "descriptor",
  "image-manifest": "OCI image manifest",
  "image-index": "OCI image index",
  "image-config": "image config",
  "docker-manifest": "Docker image manifest",
  "docker-manifest-list": "Docker manifest list",
  "oci-layout": "oci-layout file",
  "docker-archive-manifest": "docker save manifest.json",
};

/** The schema for each manifest media type megalift reads. */
const MANIFEST_SCHEMA: Readonly<Record<string, { schema: SchemaName; kind: "image" | "index" }>> = {
  [MediaType.OciManifest]: { schema: "image-manifest", kind: "image" },
  [MediaType.OciIndex]: { schema: "image-index", kind: "index" },
  [MediaType.DockerManifest]: { schema: "docker-manifest", kind: "image" },
  [MediaType.DockerManifestList]: { schema: "docker-manifest-list", kind: "index" },
};

/** A manifest document after validation: an image manifest or an index. */
export type ParsedManifest =
  | { readonly kind: "image"; readonly mediaType: string; readonly manifest: ImageManifest }
  | { readonly kind: "index"; readonly mediaType: string; readonly index: ImageIndexManifest };

/** The parsed oci-layout marker file (image-layout.md). */
export interface OciLayoutFile {
  readonly imageLayoutVersion: string;
}

let compiled: Map<SchemaName, ValidateFunction> | undefined;

function validators(): Map<SchemaName, ValidateFunction> {
  if (compiled) return compiled;
  const schemaDir = join(packageRoot(), "schemas", "oci");
  // verbose: errors carry the failing sub-schema, whose title names what was expected.
  const ajv = new Ajv({ strict: true, allErrors: false, verbose: true });
  for (const file of readdirSync(schemaDir).filter((f) => f.endsWith(".json"))) {
    ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, file), "utf8")) as AnySchemaObject);
  }
  const result = new Map<SchemaName, ValidateFunction>();
  for (const name of Object.keys(DOCUMENT_NAME) as SchemaName[]) {
    const validate = ajv.getSchema(`${SCHEMA_BASE}${name}.json`);
    if (!validate) throw new MegaliftError("IO", `schema ${name}.json missing from ${schemaDir}`);
    result.set(name, validate);
  }
  compiled = result;
  return result;
}

/** One line describing the first schema error. */
function describeError(error: ErrorObject): string {
  const where = error.instancePath === "" ? "the document" : error.instancePath;
  const parent: unknown = error.parentSchema;
  const title =
    typeof parent === "object" && parent !== null && "title" in parent ? parent.title : undefined;
  if (error.keyword === "pattern" && typeof title === "string") {
    return `${where} is ${JSON.stringify(error.data)}, which is not ${title}`;
  }
  if (error.keyword === "const") {
    const allowed: unknown = (error.params as { allowedValue?: unknown }).allowedValue;
    return `${where} is ${JSON.stringify(error.data)}, expected ${JSON.stringify(allowed)}`;
  }
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty?: string }).missingProperty ?? "?";
    return `${where} lacks the required property "${missing}"`;
  }
  return `${where} ${error.message ?? "is invalid"}`;
}

/**
 * Throws MANIFEST_INVALID unless `value` satisfies the schema. `what` names the
 * document in the message ("manifest sha256:… in oci:dir").
 */
export function validateDocument(schema: SchemaName, value: unknown, what: string): void {
  const validate = validators().get(schema);
  if (!validate) throw new MegaliftError("IO", `unknown schema ${schema}`);
  if (validate(value)) return;
  const first = validate.errors?.[0];
  const reason = first ? describeError(first) : "fails its schema";
  throw new MegaliftError(
    "MANIFEST_INVALID",
    `invalid ${DOCUMENT_NAME[schema]} (${what}): ${reason}`,
  );
}

/** JSON.parse of UTF-8 bytes; MANIFEST_INVALID naming the document if it does not parse. */
export function parseJsonBytes(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as unknown;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MegaliftError("MANIFEST_INVALID", `${what} is not valid JSON: ${reason}`, {
      cause: err,
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The media type of a manifest document: its own mediaType field, else the
 * one its descriptor gave, else (for older OCI documents, where the field is
 * optional — manifest.md, image-index.md) the OCI type its shape implies.
 */
function manifestMediaType(
  doc: Record<string, unknown>,
  expected: string | undefined,
  what: string,
): string {
  const own = doc["mediaType"];
  if (own !== undefined && typeof own !== "string") {
    throw new MegaliftError(
      "MANIFEST_INVALID",
      `invalid manifest (${what}): /mediaType must be a string`,
    );
  }
  if (own !== undefined && expected !== undefined && own !== expected) {
    // descriptor.md: the descriptor's mediaType and the document's MUST agree.
    throw new MegaliftError(
      "MANIFEST_INVALID",
      `${what} says it is ${own} but was described as ${expected}`,
    );
  }
  if (own !== undefined) return own;
  if (expected !== undefined) return expected;
  if (Array.isArray(doc["manifests"])) return MediaType.OciIndex;
  if (isRecord(doc["config"]) || Array.isArray(doc["layers"])) return MediaType.OciManifest;
  throw new MegaliftError(
    "MANIFEST_INVALID",
    `${what} has no mediaType and is neither an image manifest nor an index`,
  );
}

/**
 * Parses manifest bytes as an image manifest or index. `expectedMediaType` is
 * the media type the referring descriptor (or Content-Type) gave. Throws
 * MANIFEST_INVALID for malformed documents, MEDIA_TYPE_UNKNOWN for media types
 * megalift does not read (Docker schema 1, artifacts of other kinds).
 */
export function parseManifestBytes(
  bytes: Uint8Array,
  expectedMediaType?: string,
  what = "manifest",
): ParsedManifest {
  const doc = parseJsonBytes(bytes, what);
  if (!isRecord(doc)) {
    throw new MegaliftError("MANIFEST_INVALID", `${what} is not a JSON object`);
  }
  const mediaType = manifestMediaType(doc, expectedMediaType, what);
  const entry = MANIFEST_SCHEMA[mediaType];
  if (!entry) {
    throw new MegaliftError(
      "MEDIA_TYPE_UNKNOWN",
      `${what} has media type ${mediaType}, which megalift does not read (expected one of ${Object.keys(MANIFEST_SCHEMA).join(", ")})`,
    );
  }
  validateDocument(entry.schema, doc, what);
  return entry.kind === "image"
    ? { kind: "image", mediaType, manifest: doc as unknown as ImageManifest }
    : { kind: "index", mediaType, index: doc as unknown as ImageIndexManifest };
}

/**
 * Parses an image config (config.md). Docker writes `null` for empty Env,
 * ExposedPorts and Volumes; those nulls are dropped so the result matches
 * ImageConfig (the raw bytes keep them, so digests are unaffected).
 */
export function parseConfigBytes(bytes: Uint8Array, what = "image config"): ImageConfig {
  const doc = parseJsonBytes(bytes, what);
  validateDocument("image-config", doc, what);
  const config = doc as Record<string, unknown>;
  const container = config["config"];
  if (isRecord(container)) {
    const cleaned = Object.fromEntries(
      Object.entries(container).filter(
        ([key, value]) => !(value === null && ["Env", "ExposedPorts", "Volumes"].includes(key)),
      ),
    );
    return { ...config, config: cleaned } as unknown as ImageConfig;
  }
  return config as unknown as ImageConfig;
}

/** Parses the oci-layout marker file; the major version must be 1 (image-layout.md). */
export function parseLayoutFileBytes(bytes: Uint8Array, what = "oci-layout file"): OciLayoutFile {
  const doc = parseJsonBytes(bytes, what);
  validateDocument("oci-layout", doc, what);
  const layout = doc as OciLayoutFile;
  if (!layout.imageLayoutVersion.startsWith("1.")) {
    throw new MegaliftError(
      "MANIFEST_INVALID",
      `${what} has imageLayoutVersion ${layout.imageLayoutVersion}; megalift reads version 1.x layouts`,
    );
  }
  return layout;
}
