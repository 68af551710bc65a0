// mapping.json: schema validity, consistency rules, canonical serialisation,
// and the annotation-versus-blob rule at the size threshold.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { isMegaliftError } from "../../src/errors.js";
import { packageRoot } from "../../src/package-root.js";
import {
  buildMapping,
  parseMapping,
  serializeMapping,
  type MappingInput,
} from "../../src/merge/mapping.js";
import {
  decodeMappingAnnotation,
  encodeMappingAnnotation,
  MappingAnnotation,
  mappingReference,
  placeMapping,
} from "../../src/merge/mapping-annotation.js";
import { Digest } from "../../src/oci/digest.js";
import { HASH, sampleMapping } from "../sign/transform-fixture.js";

const schema = JSON.parse(
  readFileSync(join(packageRoot(), "schemas", "mapping.schema.json"), "utf8"),
) as object;
const validate = new Ajv({ strict: true }).compile(schema);

function expectInvalid(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isMegaliftError(err, "MAPPING_INVALID")).toBe(true);
    expect((err as Error).message).toMatch(text);
    return;
  }
  throw new Error("expected MAPPING_INVALID");
}

describe("mapping.json", () => {
  it("builds a document that the schema accepts, with every part", () => {
    const mapping = sampleMapping();
    expect(validate(JSON.parse(Buffer.from(serializeMapping(mapping)).toString()))).toBe(true);
    expect(mapping.hashAlgorithm).toBe("blake3");
    expect(mapping.toolchain).toEqual({ name: "megalift", version: "0.1.0-test" });
    expect(mapping.executables[HASH.sh]).toEqual({
      kind: "elf",
      export: "exe_sh",
      paths: ["/bin/ash", "/bin/sh"],
    });
    expect(mapping.executables[HASH.script]).toMatchObject({
      kind: "script",
      interpreter: HASH.sh,
    });
    expect(mapping.libraries[HASH.libc]).toEqual({ base: "0x7f000000", paths: ["/lib/libc.so.6"] });
    expect(mapping.omitted).toEqual([
      { hash: HASH.jit, paths: ["/usr/bin/jit"], reason: "uses AVX-512 instructions" },
    ]);
  });

  it("serialises to the same bytes whatever the input order", () => {
    const input: MappingInput = {
      toolchainVersion: "1",
      executables: [
        { hash: HASH.sh, kind: "elf", export: "a", paths: ["/b", "/a", "/b"] },
        { hash: HASH.node, kind: "polyfill", export: "b", paths: ["/n"] },
      ],
      libraries: [
        { hash: HASH.libc, base: 0x10000, paths: ["/l2", "/l1"] },
        { hash: HASH.jit, base: 0x20000, paths: ["/j"] },
      ],
    };
    const reversed: MappingInput = {
      ...input,
      executables: [...(input.executables ?? [])].reverse(),
      libraries: [...(input.libraries ?? [])].reverse(),
    };
    const a = serializeMapping(buildMapping(input));
    const b = serializeMapping(buildMapping(reversed));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const text = Buffer.from(a).toString();
    expect(text.indexOf(`"${HASH.libc}"`)).toBeLessThan(text.indexOf(`"${HASH.jit}"`)); // sorted by hash
    expect(text).toContain('"paths": [\n        "/a",\n        "/b"\n      ]');
    expect(text.endsWith("}\n")).toBe(true);
    // a parsed mapping serialises back to the identical bytes
    expect(Buffer.from(serializeMapping(parseMapping(a))).equals(Buffer.from(a))).toBe(true);
  });

  it("rejects documents that break the schema", () => {
    const good = JSON.parse(Buffer.from(serializeMapping(sampleMapping())).toString()) as Record<
      string,
      unknown
    >;
    const bad = (doc: unknown): Uint8Array => Buffer.from(JSON.stringify(doc));
    expectInvalid(() => parseMapping(bad({ ...good, hashAlgorithm: "sha256" })), /hashAlgorithm/);
    expectInvalid(() => parseMapping(bad({ ...good, extra: 1 })), /unknown property "extra"/);
    expectInvalid(
      () => parseMapping(bad({ ...good, executables: { "blake3:xyz": good["executables"] } })),
      /BLAKE3|propertyNames|property name/,
    );
    expectInvalid(
      () =>
        parseMapping(
          bad({ ...good, executables: { [HASH.sh]: { kind: "elf", paths: ["/bin/sh"] } } }),
        ),
      /export/,
    );
    expectInvalid(() => parseMapping(Buffer.from("{not json")), /not valid JSON/);
    expect(
      validate({ ...good, libraries: { [HASH.libc]: { base: "0x1234", paths: ["/l"] } } }),
    ).toBe(false);
  });

  it("rejects inconsistent inputs", () => {
    expectInvalid(
      () =>
        buildMapping({
          toolchainVersion: "1",
          executables: [{ hash: HASH.script, kind: "script", interpreter: HASH.sh, paths: ["/s"] }],
        }),
      /interpreter .* not an executable/,
    );
    expectInvalid(
      () =>
        buildMapping({
          toolchainVersion: "1",
          executables: [
            { hash: HASH.sh, kind: "elf", export: "x", paths: ["/a"] },
            { hash: HASH.node, kind: "elf", export: "x", paths: ["/b"] },
          ],
        }),
      /export "x" is used by both/,
    );
    expectInvalid(
      () =>
        buildMapping({
          toolchainVersion: "1",
          executables: [{ hash: HASH.sh, kind: "elf", export: "x", paths: ["/a"] }],
          omitted: [{ hash: HASH.sh, paths: ["/a"], reason: "r" }],
        }),
      /both in the megabinary and omitted/,
    );
    expectInvalid(
      () =>
        buildMapping({
          toolchainVersion: "1",
          libraries: [{ hash: HASH.libc, base: 0x1234, paths: ["/l"] }],
        }),
      /page address/,
    );
    expectInvalid(
      () =>
        buildMapping({
          toolchainVersion: "1",
          executables: [{ hash: HASH.sh, kind: "elf", export: "x", paths: [] }],
        }),
      /no paths/,
    );
  });
});

describe("mapping annotation", () => {
  const bytes = serializeMapping(sampleMapping());

  it("is gzip+base64 of the exact file bytes, deterministic, and smaller than minified JSON", () => {
    const value = encodeMappingAnnotation(bytes);
    expect(encodeMappingAnnotation(bytes)).toBe(value);
    expect(Buffer.from(decodeMappingAnnotation(value)).equals(Buffer.from(bytes))).toBe(true);
    const minified = JSON.stringify(JSON.parse(Buffer.from(bytes).toString()));
    expect(value.length).toBeLessThan(JSON.stringify(minified).length);
  });

  it("goes inline at the threshold and into a blob one byte past it", () => {
    let inlineSize = 0;
    const probe = placeMapping(bytes, (a) => (inlineSize = 500 + JSON.stringify(a).length));
    expect(probe.kind).toBe("annotation");
    const at = placeMapping(bytes, (a) => 500 + JSON.stringify(a).length, inlineSize);
    expect(at.kind).toBe("annotation");
    expect(at.annotations[MappingAnnotation.Digest]).toBe(Digest.of(bytes).toString());
    expect(at.annotations[MappingAnnotation.Encoding]).toBe("gzip+base64");
    const past = placeMapping(bytes, (a) => 500 + JSON.stringify(a).length, inlineSize - 1);
    expect(past.kind).toBe("blob");
    expect(past.annotations[MappingAnnotation.Inline]).toBeUndefined();
    expect(past.annotations[MappingAnnotation.Digest]).toBe(Digest.of(bytes).toString());
    expect(past.annotations[MappingAnnotation.Note]).toMatch(/too large for an annotation/);
    const ref = mappingReference(past.annotations);
    expect(ref.kind).toBe("blob");
  });

  it("reads back what it wrote, and rejects a corrupt annotation", () => {
    const placed = placeMapping(bytes, () => 0);
    const ref = mappingReference(placed.annotations);
    expect(ref.kind === "annotation" && Buffer.from(ref.bytes).equals(Buffer.from(bytes))).toBe(
      true,
    );
    expectInvalid(
      () => mappingReference({ [MappingAnnotation.Inline]: "bm90IGd6aXA=" }),
      /not base64 gzip/,
    );
  });
});
