// Small CredentialsProvider building blocks: credentials given per host (the
// proxy's config file) and a chain that asks providers in turn (the config
// first, then a docker config.json).
import type { Credentials, CredentialsProvider } from "./types.js";

/** Credentials listed per registry host (case-insensitive). */
export function staticCredentials(
  byHost: Readonly<Record<string, Credentials>>,
): CredentialsProvider {
  const table = new Map(Object.entries(byHost).map(([host, c]) => [host.toLowerCase(), c]));
  return async (host) => table.get(host.toLowerCase());
}

/** Asks each provider in order; the first that has credentials for the host wins. */
export function chainCredentials(
  ...providers: readonly CredentialsProvider[]
): CredentialsProvider {
  return async (host) => {
    for (const provider of providers) {
      const found = await provider(host);
      if (found) return found;
    }
    return undefined;
  };
}
