/**
 * Defaults shared by every sisock program. The realm and URI base are the original sisock's
 * (sisock/base.py: REALM "test_realm", BASE_URI "org.simonsobservatory"), so that existing
 * Python nodes and consumers work with ours unchanged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEFAULT_REALM = 'test_realm';
export const DEFAULT_URI_BASE = 'org.simonsobservatory';
export const DEFAULT_ROUTER_PORT = 8080;
export const DEFAULT_ROUTER_URL = `ws://127.0.0.1:${DEFAULT_ROUTER_PORT}/ws`;
export const DEFAULT_GRAFANA_PORT = 5000;
/** The package version, read from package.json (one level up in source, two in dist/). */
export const SISOCK_VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sisock' && pkg.version) return pkg.version;
    } catch {
      /* try the next candidate */
    }
  }
  return '0.0.0';
})();
