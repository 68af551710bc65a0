// The signed payload, decided: an in-toto Statement v1
// (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
// rather than an ad-hoc JSON document, because DSSE + in-toto is what sigstore
// bundles carry by convention, what `cosign verify-attestation` and other
// policy tools read, and its `subject` list is exactly "these digests are what
// was signed". Subjects: the manifest, the megabinary and the mapping (sha256);
// the predicate records the toolchain and the source image.
import { MegaliftError } from "../errors.js";
import { Digest } from "../oci/digest.js";
import type { SignedSubjects } from "./subjects.js";

/** DSSE payloadType of in-toto statements (in-toto attestation spec "Envelope"). */
export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";
export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const TRANSFORM_PREDICATE_TYPE = "https://megalift.dev/attestations/transform/v1";

/** Subject names, fixed so a verifier finds each role by name. */
export const SubjectName = {
  Manifest: "manifest",
  Megabinary: "/.megalift/megabinary.wasm",
  Mapping: "/.megalift/mapping.json",
} as const;

export interface TransformPredicate {
  readonly toolchainVersion: string;
  /** The source as the user named it and its manifest digest. */
  readonly source?: { readonly name: string; readonly digest: string };
}

interface StatementSubject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

interface Statement {
  readonly _type: string;
  readonly subject: readonly StatementSubject[];
  readonly predicateType: string;
  readonly predicate: TransformPredicate;
}

function subject(name: string, digest: Digest): StatementSubject {
  return { name, digest: { [digest.algorithm]: digest.hex } };
}

/** The statement's bytes (compact JSON, keys in a fixed order). */
export function buildTransformStatement(
  subjects: SignedSubjects,
  predicate: TransformPredicate,
): Uint8Array {
  const statement: Statement = {
    _type: STATEMENT_TYPE,
    subject: [
      subject(SubjectName.Manifest, subjects.manifest),
      subject(SubjectName.Megabinary, subjects.megabinary),
      subject(SubjectName.Mapping, subjects.mapping),
    ],
    predicateType: TRANSFORM_PREDICATE_TYPE,
    predicate,
  };
  return Buffer.from(JSON.stringify(statement));
}

function bad(reason: string): MegaliftError {
  return new MegaliftError("SIGNATURE_INVALID", `the signed statement ${reason}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The subjects and predicate of a signed statement; SIGNATURE_INVALID if it is not megalift's. */
export function parseTransformStatement(bytes: Uint8Array): {
  subjects: SignedSubjects;
  predicate: TransformPredicate;
} {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown;
  } catch (err) {
    throw new MegaliftError("SIGNATURE_INVALID", "the signed statement is not JSON", {
      cause: err,
    });
  }
  if (!isRecord(doc) || doc["_type"] !== STATEMENT_TYPE) throw bad(`is not an ${STATEMENT_TYPE}`);
  if (doc["predicateType"] !== TRANSFORM_PREDICATE_TYPE) {
    throw bad(
      `has predicate type ${String(doc["predicateType"])}, not ${TRANSFORM_PREDICATE_TYPE}`,
    );
  }
  const list = Array.isArray(doc["subject"]) ? (doc["subject"] as unknown[]) : [];
  const find = (name: string): Digest => {
    const entry = list.find((s) => isRecord(s) && s["name"] === name);
    const hex =
      isRecord(entry) && isRecord(entry["digest"]) ? entry["digest"]["sha256"] : undefined;
    if (typeof hex !== "string" || !Digest.isValid(`sha256:${hex}`)) {
      throw bad(`has no sha256 subject named ${name}`);
    }
    return Digest.parse(`sha256:${hex}`);
  };
  const predicate = isRecord(doc["predicate"]) ? doc["predicate"] : {};
  return {
    subjects: {
      manifest: find(SubjectName.Manifest),
      megabinary: find(SubjectName.Megabinary),
      mapping: find(SubjectName.Mapping),
    },
    predicate: predicate as unknown as TransformPredicate,
  };
}
