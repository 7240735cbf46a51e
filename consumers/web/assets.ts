/**
 * Where the web page's files are: its own folder (static/: index.html, app.js, style.css, no build
 * step) and uPlot from node_modules (no CDN, no network). The routes that serve them are the
 * bridge's (consumers/grafana/page.ts).
 */
import fs from 'node:fs';
import path from 'node:path';

/** The folder with index.html: next to this file (ts sources) or in the package (from dist/). */
export function staticDir(): string {
  const here = path.join(__dirname, 'static');
  if (fs.existsSync(path.join(here, 'index.html'))) return here;
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const cand = path.join(dir, 'consumers', 'web', 'static');
    if (fs.existsSync(path.join(cand, 'index.html'))) return cand;
  }
  return here;
}

/** uPlot's dist folder in node_modules. */
export function uplotDir(): string {
  return path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
}
