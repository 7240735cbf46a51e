/** The Grafana bridge: simple-json 1.4 and simPod JSON datasource ≤ 0.6 over sisock (contract section 4). */
export { startBridge } from './server';
export type { BridgeOptions, RunningBridge } from './server';
export { createBridgeApp, searchNames } from './app';
export type { BridgeDeps } from './app';
export { FieldCatalogue, nodeCallError } from './catalogue';
export type { NodeInfo, HubEvent, CatalogueOptions } from './catalogue';
export { QueryEngine, columnOf, toMs } from './query';
export type { QueryResult, TimeSeriesResult, TableResult, QueryEngineOptions } from './query';
export { minMaxIndices, minMaxDownsample } from './downsample';
export { HistoryFallback, DEFAULT_HISTORY_NODE } from './history';
export * from './request';
export { authFromEnv, authorized, authMiddleware, corsMiddleware, authEnabled } from './auth';
export type { AuthConfig } from './auth';
export { HttpError } from './errors';
export { bridgeMetricsMiddleware } from './metrics';
