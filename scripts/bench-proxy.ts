// npm run bench:proxy — cached manifests and blobs served by the megalift
// proxy vs the same content served by CNCF distribution directly, measured
// side by side in one run. Prints latency (p50/p99 of sequential requests)
// and throughput (concurrent clients) for both, and the ratio proxy/direct
// (for latency: direct/proxy), so ≥ 1.0 means the proxy is at least as fast.
import { createHash, randomBytes } from "node:crypto";
import { Agent, request } from "undici";
import { startDistribution } from "../test/e2e/harness/distribution.js";
import { startProxy } from "../test/e2e/harness/proxy.js";
import { Teardown } from "../test/e2e/harness/teardown.js";

const REPO = "bench/blobs";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const SIZES = [
  { label: "manifest", size: 0 },
  { label: "blob 4 KiB", size: 4 * 1024 },
  { label: "blob 1 MiB", size: 1024 * 1024 },
  { label: "blob 32 MiB", size: 32 * 1024 * 1024 },
];
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

const sha256 = (b: Uint8Array): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const agent = new Agent({ connections: 64, pipelining: 1 });

async function pushBlob(base: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  const start = await request(`${base}/v2/${REPO}/blobs/uploads/`, {
    method: "POST",
    dispatcher: agent,
  });
  await start.body.dump();
  const location = new URL(String(start.headers.location), base);
  location.searchParams.set("digest", digest);
  const put = await request(location, {
    method: "PUT",
    body: bytes,
    headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length) },
    dispatcher: agent,
  });
  await put.body.dump();
  if (put.statusCode !== 201) throw new Error(`blob push answered ${put.statusCode}`);
  return digest;
}

/** Pushes one image whose layers are the benchmark blobs; returns the blob digests by label. */
async function seed(base: string): Promise<Map<string, string>> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
    }),
  );
  const configDigest = await pushBlob(base, config);
  const digests = new Map<string, string>();
  const layers = [];
  for (const { label, size } of SIZES.filter((s) => s.size > 0)) {
    const bytes = randomBytes(size);
    const digest = await pushBlob(base, bytes);
    digests.set(label, digest);
    layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: configDigest,
        size: config.length,
      },
      layers,
    }),
  );
  const put = await request(`${base}/v2/${REPO}/manifests/latest`, {
    method: "PUT",
    body: manifest,
    headers: { "content-type": MANIFEST },
    dispatcher: agent,
  });
  await put.body.dump();
  if (put.statusCode !== 201) throw new Error(`manifest push answered ${put.statusCode}`);
  digests.set("manifest", sha256(manifest));
  return digests;
}

function pathFor(label: string, digest: string): string {
  return label === "manifest" ? `/v2/${REPO}/manifests/${digest}` : `/v2/${REPO}/blobs/${digest}`;
}

async function fetchOnce(url: string): Promise<number> {
  const res = await request(url, { headers: { accept: MANIFEST }, dispatcher: agent });
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}`);
  return bytes;
}

interface Measured {
  p50: number;
  p99: number;
  mibPerSec: number;
  reqPerSec: number;
}

async function measure(base: string, path: string, size: number): Promise<Measured> {
  const url = base + path;
  for (let i = 0; i < 5; i++) await fetchOnce(url); // warm connections and caches
  const sequential = size >= 32 * 1024 * 1024 ? Math.min(SEQUENTIAL, 20) : SEQUENTIAL;
  const latencies: number[] = [];
  for (let i = 0; i < sequential; i++) {
    const t0 = process.hrtime.bigint();
    await fetchOnce(url);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  const total = size >= 32 * 1024 * 1024 ? CONCURRENCY * 4 : CONCURRENCY * 50;
  let next = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) {
        next++;
        bytes += await fetchOnce(url);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!,
    mibPerSec: bytes / 1024 / 1024 / seconds,
    reqPerSec: total / seconds,
  };
}

async function main(): Promise<void> {
  const teardown = new Teardown();
  try {
    const upstream = await startDistribution(teardown);
    const digests = await seed(upstream.url);
    const proxy = await startProxy({ upstream: upstream.url }, teardown);
    // Fill the proxy's cache: every measurement below is of cached content.
    for (const [label, digest] of digests) await fetchOnce(proxy.url + pathFor(label, digest));

    const rows: string[][] = [];
    const ratios: number[] = [];
    for (const { label, size } of SIZES) {
      const path = pathFor(label, digests.get(label)!);
      const direct = await measure(upstream.url, path, size);
      const viaProxy = await measure(proxy.url, path, size);
      const latencyRatio = direct.p50 / viaProxy.p50;
      const throughputRatio = viaProxy.reqPerSec / direct.reqPerSec;
      ratios.push(latencyRatio, throughputRatio);
      rows.push([
        label,
        `${direct.p50.toFixed(2)} / ${direct.p99.toFixed(2)}`,
        `${viaProxy.p50.toFixed(2)} / ${viaProxy.p99.toFixed(2)}`,
        latencyRatio.toFixed(2),
        size >= 1024 * 1024
          ? `${direct.mibPerSec.toFixed(0)} MiB/s`
          : `${direct.reqPerSec.toFixed(0)} req/s`,
        size > 0
          ? `${viaProxy.mibPerSec.toFixed(0)} MiB/s`
          : `${viaProxy.reqPerSec.toFixed(0)} req/s`,
        throughputRatio.toFixed(2),
      ]);
    }
    const header = [
      "content",
      "direct p50/p99 ms",
      "proxy p50/p99 ms",
      "latency ×",
      `direct ×${CONCURRENCY}`,
      `proxy ×${CONCURRENCY}`,
      "throughput ×",
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    console.log("megalift proxy (cached) vs CNCF distribution, same content, one run");
    console.log(
      `sequential requests: ${SEQUENTIAL} (20 for 32 MiB); concurrent clients: ${CONCURRENCY}`,
    );
    console.log(
      "ratios: latency × = direct p50 / proxy p50; throughput × = proxy / direct (goal ≥ 1.0)\n",
    );
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    const geomean = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
    console.log(`\ngeometric mean of all ratios: ${geomean.toFixed(2)}`);
  } finally {
    await agent.close();
    await teardown.run();
  }
}

await main();
