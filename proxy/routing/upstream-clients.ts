// One RegistryClient per configured upstream, created on first use. The
// client (auth, retries, digest checks) is src/registry's; the proxy only
// chooses which one to call.
import type { RegistryClient } from "../../src/registry/types.js";
import type { UpstreamConfig } from "../config/proxy-config.js";

/** Builds the client for an upstream. */
export type RegistryClientFactory = (upstream: UpstreamConfig) => RegistryClient;

export class UpstreamClients {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly factory: RegistryClientFactory) {}

  get(upstream: UpstreamConfig): RegistryClient {
    let client = this.clients.get(upstream.host);
    if (!client) {
      client = this.factory(upstream);
      this.clients.set(upstream.host, client);
    }
    return client;
  }
}
