// Builds the proxy's hono application from its services: the request log,
// the OCI-Namespace echo, /healthz, /metrics, /megalift/v1/ (transform
// status, signing key), the /v2/ pull API and the one error handler. No sockets here: tests call app.request(...) directly.
import { Hono } from "hono";
import { renderError } from "./http/error-handler.js";
import { RegistryError } from "./http/registry-error.js";
import type { Logger } from "./observability/logger.js";
import type { ProxyMetrics } from "./observability/metrics.js";
import { requestLog, type RequestVariables } from "./observability/request-log.js";
import { addMegaliftRoutes } from "./routes/megalift-routes.js";
import { v2Handler, type V2Services } from "./routes/v2-routes.js";

export interface ProxyAppDeps extends V2Services {
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** The PEM public key transforms are signed with (transform mode). */
  readonly publicKeyPem?: string;
}

export type ProxyApp = Hono<{ Variables: RequestVariables }>;

export function createProxyApp(deps: ProxyAppDeps): ProxyApp {
  const app: ProxyApp = new Hono<{ Variables: RequestVariables }>();
  app.use("*", requestLog(deps.logger, deps.metrics));
  // containerd sends ?ns=<registry> to mirrors and expects it echoed back
  // (containerd docs/hosts.md; OCI distribution-spec discussion of OCI-Namespace).
  app.use("*", async (c, next) => {
    await next();
    const ns = c.req.query("ns");
    if (ns !== undefined) c.res.headers.set("OCI-Namespace", ns);
  });
  app.get("/healthz", (c) => {
    c.set("route", "healthz");
    return c.json({ status: "ok" });
  });
  app.get("/metrics", (c) => {
    c.set("route", "metrics");
    return c.body(deps.metrics.render(), 200, {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });
  addMegaliftRoutes(app, deps);
  const v2 = v2Handler(deps);
  app.all("/v2", v2);
  app.all("/v2/*", v2);
  app.notFound((c) =>
    renderError(new RegistryError(404, "NAME_UNKNOWN", `no such endpoint: ${c.req.path}`), c),
  );
  app.onError(renderError);
  return app;
}
