// `megalift verify SOURCE --key PUB [--json]`: checks with @sigstore/verify
// that a transformed image's manifest, megabinary and mapping are exactly
// what was signed with the key's private half (src/sign/verify-transform.ts).
import type { CliCommand } from "../command.js";
import { parseCommandArgs } from "../parse-args.js";
import { readKeyFile } from "../read-key-file.js";
import { MegaliftError } from "../../errors.js";
import type { VerifyReport } from "../../sign/verify-transform.js";

const HELP = `Usage: megalift verify SOURCE --key PUB [--json]

Verifies a transformed image: finds its signature (the sigstore bundle
referrer, listed by the registry's referrers API or at tag sha256-<hex>, and
the cosign tag sha256-<hex>.sig),
verifies it with the public key, and checks that the manifest, the megabinary
(/.megalift/megabinary.wasm and its layer) and the mapping (the layer file and
the manifest annotation or blob) are exactly what was signed. Any difference
is one line naming what differs, and exit status 1.

SOURCE is oci:DIR[:TAG|@DIGEST] or docker://HOST/NAME[:TAG|@DIGEST]; for an
index, its linux/amd64 image is verified.

Options:
  --key PUB     the PEM public key (ECDSA P-256) to verify with (required)
  --json        print the report as one JSON document
  -h, --help    show this help

A registry is reached as by transform: credentials from the docker
config.json, plain http for loopback hosts and MEGALIFT_INSECURE_REGISTRIES.

Example:
  megalift verify oci:out:busybox --key megalift.pub
  megalift verify docker://localhost:5000/busybox:wasm --key megalift.pub
`;

function formatReport(report: VerifyReport): string {
  const rows: [string, string][] = [
    ["manifest", report.manifest],
    ["signature", `${report.signature.kind}, ${report.signature.where}`],
    ["key", `${report.keyHint.slice(0, 16)}… (ECDSA P-256)`],
    ["megabinary", `${report.megabinary} (layer ${report.megabinaryLayer})`],
    ["mapping", `${report.mapping} (${report.mappingCarriedAs})`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `verified ${report.source}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
  ].join("\n");
}

export const verifyCommand: CliCommand = {
  name: "verify",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs("verify", args, {
      key: { type: "string" },
      json: { type: "boolean" },
    });
    const [reference, ...extra] = positionals;
    if (reference === undefined || extra.length > 0) {
      throw new MegaliftError(
        "USAGE",
        "verify: expected exactly one SOURCE (see megalift verify --help)",
      );
    }
    if (values.key === undefined) {
      throw new MegaliftError(
        "USAGE",
        "verify: --key PUB is required (see megalift verify --help)",
      );
    }
    const keyPath = values.key;
    const pem = await readKeyFile(keyPath);
    // Loaded here, not at the top: `megalift --help` should not pay for sigstore.
    const { loadPublicKey } = await import("../../sign/keys.js");
    const { openSource } = await import("../../oci/sources.js");
    const { verifyTransformedImage } = await import("../../sign/verify-transform.js");
    const key = loadPublicKey(pem, `key ${keyPath}`);
    const source = await openSource(reference);
    try {
      const report = await verifyTransformedImage(source, key);
      process.stdout.write(
        values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
      );
      return 0;
    } finally {
      await source.close();
    }
  },
};
