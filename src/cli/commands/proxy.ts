// `megalift proxy`: runs the OCI registry pull-through proxy (proxy/) until
// SIGTERM or SIGINT. The first line on stdout once it listens is
// {"level":"info","msg":"listening","url":"http://HOST:PORT"} — scripts and
// end-to-end tests read the port from it — then one JSON line per request.
import type { CliCommand } from "../command.js";
import { parseCommandArgs } from "../parse-args.js";
import { MegaliftError } from "../../errors.js";

const HELP = `Usage: megalift proxy [--listen HOST:PORT] [--upstream URL] [--cache DIR]
                      [--mode transform|passthrough] [--config FILE]

Serves the OCI distribution pull API (manifests, blobs with Range, tags,
referrers) for one or more upstream registries, caching content on disk.
Push and delete are refused (405 UNSUPPORTED).

In transform mode (the default) a tag pull answers the megabinary image:
an index of the source's linux/amd64 image plus the megabinary layer, and
its wasm-platform variant, made once per (source digest, toolchain version),
kept in the cache and signed with the proxy's key (referrers API and the
cosign sha256-<hex>.sig tag). Digest pulls answer the bytes the digest names,
source or transformed. While a transform runs longer than --transform-wait,
or after it failed, pulls get 503 UNAVAILABLE with Retry-After.
passthrough serves every image unchanged. The config file can set the mode
per repository (repositories: [{match, mode}]).

Routing: containerd's ?ns=<registry> picks the upstream; /v2/<host>/<name>/…
path prefixes pick a configured upstream; anything else goes to the default
upstream (docker's registry-mirrors). Docker Hub names get library/.

Options:
  --listen HOST:PORT     address to listen on (default 127.0.0.1:5000; port 0 = any)
  --upstream URL         the default upstream registry (e.g. https://registry-1.docker.io)
  --cache DIR            cache directory (default $MEGALIFT_CACHE_DIR/proxy)
  --mode MODE            transform (default) or passthrough
  --config FILE          YAML or JSON (schemas/proxy-config.schema.json); flags override it
  --cache-max-size SIZE  cache size limit, e.g. 20GiB (default 10GiB)
  --tag-ttl SECONDS      how long a tag's digest is trusted (default 300)
  --signing-key FILE     PEM ECDSA P-256 private key that signs transforms
                         (default: generated once into CACHE/signing/)
  --transform-timeout SECONDS  stop a transform after this long (default 1800)
  --transform-wait SECONDS     how long a pull waits for a running transform
                         before it is answered 503 + Retry-After (default 60)
  -h, --help             show this help

Environment: MEGALIFT_UPSTREAM (the default upstream when --upstream is not given).

Endpoints besides /v2/: /healthz, /metrics (Prometheus text format),
/megalift/v1/transforms (transform status, JSON), /megalift/v1/key.pub.

Example:
  megalift proxy --listen 0.0.0.0:5000 --upstream https://registry-1.docker.io \\
      --cache /var/cache/megalift --mode transform
`;

export const proxyCommand: CliCommand = {
  name: "proxy",
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs("proxy", args, {
      listen: { type: "string" },
      upstream: { type: "string" },
      cache: { type: "string" },
      mode: { type: "string" },
      config: { type: "string" },
      "cache-max-size": { type: "string" },
      "tag-ttl": { type: "string" },
      "signing-key": { type: "string" },
      "transform-timeout": { type: "string" },
      "transform-wait": { type: "string" },
    });
    if (positionals.length > 0) {
      throw new MegaliftError(
        "USAGE",
        `proxy: unexpected argument "${positionals[0]}" (see megalift proxy --help)`,
      );
    }
    // Loaded here, not at the top: other commands should not pay for the server.
    const { loadProxyConfig, startProxy } = await import("../../../proxy/index.js");
    const config = await loadProxyConfig({
      listen: values.listen,
      upstream: values.upstream,
      cache: values.cache,
      mode: values.mode,
      config: values.config,
      cacheMaxSize: values["cache-max-size"],
      tagTtl: values["tag-ttl"],
      signingKey: values["signing-key"],
      transformTimeout: values["transform-timeout"],
      transformWait: values["transform-wait"],
    });
    const proxy = await startProxy(config);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
        process.stdout.write(
          JSON.stringify({ level: "info", msg: "shutting down", signal }) + "\n",
        );
        proxy.close().then(resolve, resolve);
      };
      // Handlers first, then the announcement: a supervisor that reads the
      // line and signals at once must find the graceful shutdown in place
      // (without a handler, SIGTERM's default action kills the process).
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      process.stdout.write(
        JSON.stringify({ level: "info", msg: "listening", url: proxy.url }) + "\n",
      );
      for (const record of proxy.startupLog) process.stdout.write(JSON.stringify(record) + "\n");
    });
    return 0;
  },
};
