// `megalift transform SOURCE DEST [--key KEY] [--json]`: the whole toolchain
// (src/pipeline/transform.ts) — scan, lift in worker threads through the lift
// cache, link one megabinary, write the transformed image (augmented
// linux/amd64 image + wasm variant in an index) and sign it.
import type { CliCommand } from "../command.js";
import { parseCommandArgs } from "../parse-args.js";
import { readKeyFile } from "../read-key-file.js";
import { MegaliftError } from "../../errors.js";
import { createProgress, formatBytes } from "../progress.js";
import type { TransformProgress, TransformSummary } from "../../pipeline/transform.js";

const HELP = `Usage: megalift transform SOURCE DEST [--key KEY] [--dest-tls-verify=false] [--json]

Turns an image into a megabinary image: every executable is found and hashed
(BLAKE3), every static x86-64 program is lifted to WebAssembly (in parallel
worker threads, each distinct file once, through the lift cache), all of it
is linked into one megabinary.wasm with its mapping.json, and DEST receives
the source layers unchanged plus one megabinary layer, the mapping as a
manifest annotation, and a wasm-platform variant, in one index. With --key,
the result is signed (sigstore bundle referrer + cosign .sig tag).

Executables that cannot be lifted are listed with the reason (and in the
mapping's "omitted" list); they can never run from the megabinary. Dynamic
programs and shared libraries are omitted until dynamic linking lands.

SOURCE is oci:DIR[:TAG|@DIGEST], docker-archive:FILE[:REF] or
docker://HOST/NAME[:TAG|@DIGEST]; DEST is oci:DIR[:TAG] or
docker://HOST[:PORT]/NAME[:TAG] (default tag latest). A registry DEST receives
the index by tag (its manifests by digest first) and, with --key, the bundle
referrer by digest (plus the referrers tag sha256-<hex> where the registry
has no referrers API) and the cosign tag sha256-<hex>.sig. Credentials come
from the docker config.json (docker login). Loopback registries and those in
MEGALIFT_INSECURE_REGISTRIES are reached over plain http.

Options:
  --key KEY           sign with this PEM private key (megalift generate-key-pair);
                      MEGALIFT_KEY_PASSWORD decrypts an encrypted key
  --dest-tls-verify=false
                      reach a docker:// DEST over plain http (as skopeo's flag)
  --json              print the summary as one JSON document
  --jobs N            lift worker threads (default: the number of CPUs)
  --optimize N        binaryen level for the whole megabinary (default 0: functions
                      are optimised when lifted)
  --polyfills DIR     prebuilt modules standing in for executables that cannot be
                      lifted, listed in DIR/polyfills.json by hash or path
  --cache-dir DIR     where contents and lifts are kept
                      (default $MEGALIFT_CACHE_DIR or ~/.cache/megalift)
  -h, --help          show this help

Example:
  megalift generate-key-pair --output-prefix megalift
  megalift transform oci:images/busybox:latest oci:out:busybox --key megalift.key
  megalift verify oci:out:busybox --key megalift.pub
  megalift transform oci:images/busybox:latest docker://localhost:5000/busybox:wasm \\
    --key megalift.key
  megalift verify docker://localhost:5000/busybox:wasm --key megalift.pub
`;

/** skopeo's --dest-tls-verify takes true or false. */
function booleanOption(name: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text === "true") return true;
  if (text === "false") return false;
  throw new MegaliftError("USAGE", `transform: --${name} expects true or false, got "${text}"`);
}

function integerOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new MegaliftError(
      "USAGE",
      `transform: --${name} expects an integer ≥ ${min}, got "${text}"`,
    );
  }
  return value;
}

function describeProgress(p: TransformProgress): string {
  const count = p.total !== undefined ? ` ${p.done ?? 0}/${p.total}` : "";
  return `${p.stage}${count}${p.detail !== undefined ? ` ${p.detail}` : ""}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatSummary(s: TransformSummary): string {
  const cached = s.lifted.filter((l) => l.fromCache).length;
  const unsupported = s.lifted.reduce((n, l) => n + (l.unsupported ?? 0), 0);
  const lines = [
    `transformed ${s.source} → ${s.destination}`,
    `  index        ${s.indexDigest}`,
    `  manifest     ${s.manifestDigest}${s.signed ? " (signed)" : ""}`,
    `  executables  ${s.executables.elf} ELF, ${s.executables.scripts} scripts (distinct files)`,
    `  lifted       ${s.lifted.length} programs (${cached} from the lift cache)${
      unsupported > 0 ? `, ${unsupported} unsupported instructions (trap if reached)` : ""
    }, ${s.scripts} scripts`,
    ...(s.polyfilled.length > 0
      ? [
          `  polyfilled   ${s.polyfilled
            .map((p) => `${p.paths[0] ?? p.hash} (${p.polyfill})`)
            .join(", ")}`,
        ]
      : []),
    `  omitted      ${s.omitted.length}`,
    `  megabinary   ${formatBytes(s.megabinaryBytes)}, mapping ${formatBytes(s.mappingBytes)}`,
    `  time         ${(["flatten", "scan", "lift", "link", "compile", "write", "sign"] as const)
      .map((k) => `${k} ${seconds(s.milliseconds[k])}`)
      .join(", ")}; total ${seconds(s.milliseconds.total)}`,
  ];
  const reasons = new Map<string, number>();
  for (const o of s.omitted) {
    const key = o.reason.replace(/\(interpreter [^)]*\)/, "(interpreter …)");
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) {
    lines.push(`    ${String(n).padStart(5)}  ${reason}`);
  }
  return `${lines.join("\n")}\n`;
}

export const transformCommand: CliCommand = {
  name: "transform",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs("transform", args, {
      key: { type: "string" },
      json: { type: "boolean" },
      jobs: { type: "string" },
      optimize: { type: "string" },
      "cache-dir": { type: "string" },
      "dest-tls-verify": { type: "string" },
      polyfills: { type: "string" },
    });
    const [source, destination, ...extra] = positionals;
    if (source === undefined || destination === undefined || extra.length > 0) {
      throw new MegaliftError(
        "USAGE",
        "transform: expected SOURCE and DEST (see megalift transform --help)",
      );
    }
    const workers = integerOption("jobs", values.jobs, 1);
    const compileOptimize = integerOption("optimize", values.optimize, 0);
    const destinationTlsVerify = booleanOption("dest-tls-verify", values["dest-tls-verify"]);
    let signing;
    if (values.key !== undefined) {
      const keyPath = values.key;
      const pem = await readKeyFile(keyPath);
      const { localKeySigning } = await import("../../sign/signer.js");
      signing = localKeySigning(pem, process.env.MEGALIFT_KEY_PASSWORD);
    }
    let polyfills;
    if (values.polyfills !== undefined) {
      const { loadPolyfills } = await import("../../merge/polyfill.js");
      polyfills = loadPolyfills(values.polyfills);
    }
    // Loaded here, not at the top: `megalift --help` should not pay for the toolchain.
    const { transformImage } = await import("../../pipeline/transform.js");
    const progress = createProgress();
    try {
      const summary = await transformImage({
        source,
        destination,
        ...(signing !== undefined ? { signing } : {}),
        ...(values["cache-dir"] !== undefined ? { cacheDir: values["cache-dir"] } : {}),
        ...(workers !== undefined ? { workers } : {}),
        ...(compileOptimize !== undefined ? { compileOptimize } : {}),
        ...(destinationTlsVerify !== undefined ? { destinationTlsVerify } : {}),
        ...(polyfills !== undefined ? { polyfills } : {}),
        onProgress: (p) => progress.update(describeProgress(p)),
      });
      progress.done();
      process.stdout.write(
        values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary),
      );
      return 0;
    } finally {
      progress.done();
    }
  },
};
