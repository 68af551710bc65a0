// The registry proxy's public surface: start it (startProxy), assemble it
// without a socket (createProxy, for app.request tests), and read its
// configuration (loadProxyConfig).
export { createProxy, startProxy, parseListen } from "./server.js";
export type { ProxyInstance, ProxyOptions, RunningProxy } from "./server.js";
export { createProxyApp } from "./app.js";
export type { ProxyApp, ProxyAppDeps } from "./app.js";
export {
  loadProxyConfig,
  resolveProxyConfig,
  readConfigFile,
  validateConfigDocument,
} from "./config/load-config.js";
export type { ProxyConfigFile, ProxyFlags } from "./config/load-config.js";
export type { ProxyConfig, UpstreamConfig, CacheConfig, ProxyMode } from "./config/proxy-config.js";
export type { CacheStore } from "./cache/cache-store.js";
export { DiskCache } from "./cache/disk-cache.js";
export type { RegistryClientFactory } from "./routing/upstream-clients.js";
export { jsonLineLogger, silentLogger } from "./observability/logger.js";
export type { Logger, LogRecord } from "./observability/logger.js";
