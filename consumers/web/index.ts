/**
 * The web page: static files (static/), where they are (assets.ts) and the live relay the page's
 * SSE streams use (live.ts). Its HTTP routes are mounted by the Grafana bridge (grafana/page.ts).
 */
export { staticDir, uplotDir } from './assets';
export { LiveRelay } from './live';
