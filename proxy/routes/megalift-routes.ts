// The proxy's own endpoints beside the registry API:
//   GET /megalift/v1/transforms  every transform known (running, done, failed) as JSON
//   GET /megalift/v1/key.pub     the PEM public key transformed images are signed with,
//                                for `megalift verify --key` and `cosign verify --key`
// Both answer 404 in passthrough mode, where there are no transforms and no key.
import type { Hono } from "hono";
import { RegistryError } from "../http/registry-error.js";
import type { RequestVariables } from "../observability/request-log.js";
import type { TransformService } from "../transform/transform-service.js";

export interface MegaliftRouteDeps {
  readonly transforms?: TransformService;
  readonly publicKeyPem?: string;
}

export function addMegaliftRoutes(
  app: Hono<{ Variables: RequestVariables }>,
  deps: MegaliftRouteDeps,
): void {
  const notInTransformMode = (): never => {
    throw new RegistryError(
      404,
      "NAME_UNKNOWN",
      "the proxy runs in passthrough mode: no transforms",
    );
  };
  app.get("/megalift/v1/transforms", (c) => {
    c.set("route", "transforms");
    if (!deps.transforms) return notInTransformMode();
    return c.json({ transforms: deps.transforms.list() });
  });
  app.get("/megalift/v1/key.pub", (c) => {
    c.set("route", "key");
    if (deps.publicKeyPem === undefined) return notInTransformMode();
    return c.body(deps.publicKeyPem, 200, { "Content-Type": "application/x-pem-file" });
  });
}
