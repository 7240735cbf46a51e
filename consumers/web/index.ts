/** The web page: static files (static/) and its server bits, mounted on the Grafana bridge. */
export { webRoutes, staticDir, uplotDir } from './routes';
export type { WebDeps } from './routes';
export { LiveRelay } from './live';
