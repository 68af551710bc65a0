// `megalift scan SOURCE [--json]`: stage 1 alone — every ELF and #! script in
// an image, hashed with BLAKE3, as a table with totals or as one JSON document.
import type { CliCommand } from "../command.js";
import { parseCommandArgs } from "../parse-args.js";
import { MegaliftError } from "../../errors.js";
import { createProgress } from "../progress.js";
import { EXIT_FAILURE } from "../exit-codes.js";

const HELP = `Usage: megalift scan SOURCE [--json]

Lists every executable in an image: ELF files (programs and shared libraries)
and #! scripts, each with its BLAKE3 hash and every path that holds the same
content, followed by totals.

SOURCE is oci:DIR[:TAG|@DIGEST], docker-archive:FILE[:REF] or
docker://HOST/NAME[:TAG|@DIGEST].

A file that looks like an ELF but does not parse is listed under "problems"
and named on stderr; the scan goes on and exits with status 1.

Options:
  --json            print one JSON document (schemas/scan.schema.json)
  --cache-dir DIR   where flattened file contents are kept
                    (default $MEGALIFT_CACHE_DIR or ~/.cache/megalift)
  -h, --help        show this help

Example:
  megalift scan oci:fixtures/images/demo:latest
  megalift scan docker-archive:busybox.tar --json > scan.json
`;

export const scanCommand: CliCommand = {
  name: "scan",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs("scan", args, {
      json: { type: "boolean" },
      "cache-dir": { type: "string" },
    });
    const [source, ...extra] = positionals;
    if (source === undefined || extra.length > 0) {
      throw new MegaliftError(
        "USAGE",
        "scan: expected exactly one SOURCE (see megalift scan --help)",
      );
    }
    // Loaded here, not at the top: `megalift --help` should not pay for them.
    const { openImageRootfs } = await import("../image-rootfs.js");
    const { scanRootfs } = await import("../../scan/scan.js");
    const { formatScanTable, toScanJson } = await import("../../scan/report.js");
    const progress = createProgress();
    try {
      const { view, display, imageDigest } = await openImageRootfs(source, {
        cacheDir: values["cache-dir"],
        progress,
      });
      const result = await scanRootfs(view, {
        onProgress: (done, total) => progress.update(`scanning ${done}/${total} files`),
      });
      progress.done();
      const meta = { source: display, imageDigest: imageDigest.toString() };
      if (values.json) {
        process.stdout.write(JSON.stringify(toScanJson(result, meta), null, 2) + "\n");
      } else {
        process.stdout.write(formatScanTable(result, meta));
      }
      // Like ls or grep: everything readable is reported, each file that could
      // not be understood is named on stderr, and the exit status says so.
      for (const problem of result.problems) {
        process.stderr.write(`megalift: scan: ${problem.path}: ${problem.message}\n`);
      }
      return result.problems.length > 0 ? EXIT_FAILURE : 0;
    } finally {
      progress.done();
    }
  },
};
