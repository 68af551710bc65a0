// The production RegistryClientFactory: src/registry's undici client, with
// the upstream's configured credentials (if any) for its host.
import { createRegistryClient } from "../../src/registry/client.js";
import type { RegistryClientFactory } from "./upstream-clients.js";

export const defaultClientFactory: RegistryClientFactory = (upstream) => {
  const credentials = upstream.credentials;
  return createRegistryClient({
    endpoint: { host: upstream.host, baseUrl: upstream.url },
    ...(credentials ? { credentials: async () => credentials } : {}),
  });
};
