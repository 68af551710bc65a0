// `megalift generate-key-pair [--output-prefix P]`: writes an ECDSA P-256 key
// pair for air-gapped signing (P.key, PKCS#8 PEM, mode 0600; P.pub, SPKI PEM),
// like `cosign generate-key-pair` but in plain PEM that openssl reads too.
import { writeFile } from "node:fs/promises";
import type { CliCommand } from "../command.js";
import { parseCommandArgs } from "../parse-args.js";
import { MegaliftError } from "../../errors.js";
import { generateSigningKeyPair } from "../../sign/keys.js";

const HELP = `Usage: megalift generate-key-pair [--output-prefix PREFIX]

Writes a new ECDSA P-256 signing key pair: PREFIX.key (the private key,
PKCS#8 PEM, readable only by you) and PREFIX.pub (the public key, SPKI PEM).
\`megalift transform SOURCE DEST --key PREFIX.key\` signs with it; check with
\`megalift verify SOURCE --key PREFIX.pub\` (or \`cosign verify --key PREFIX.pub
--insecure-ignore-tlog\`). Set MEGALIFT_KEY_PASSWORD to encrypt the private key.
Existing files are never overwritten.

Options:
  --output-prefix PREFIX   file name prefix (default "megalift")
  -h, --help               show this help
`;

export const generateKeyPairCommand: CliCommand = {
  name: "generate-key-pair",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs("generate-key-pair", args, {
      "output-prefix": { type: "string" },
    });
    if (positionals.length > 0) {
      throw new MegaliftError("USAGE", "generate-key-pair: takes no arguments (see --help)");
    }
    const prefix = values["output-prefix"] ?? "megalift";
    const pair = generateSigningKeyPair(process.env.MEGALIFT_KEY_PASSWORD || undefined);
    const write = async (path: string, text: string, mode: number): Promise<void> => {
      await writeFile(path, text, { mode, flag: "wx" }).catch((err: unknown) => {
        throw new MegaliftError(
          "IO",
          `cannot write ${path}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      });
    };
    await write(`${prefix}.key`, pair.privateKeyPem, 0o600);
    await write(`${prefix}.pub`, pair.publicKeyPem, 0o644);
    process.stdout.write(`wrote ${prefix}.key (private) and ${prefix}.pub (public)\n`);
    return 0;
  },
};
