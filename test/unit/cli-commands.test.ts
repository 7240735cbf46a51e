/**
 * bin/sisock.ts loads only the module of the command named on the command line: its table of names
 * must be what each module registers, every command must be in it, and a named command must not load
 * the other commands' modules.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { buildProgram, COMMANDS } from '../../bin/sisock';
import { modulesLoadedBy } from '../helpers/loaded-modules';

describe('sisock commands, loaded when named', () => {
  it("lists each module's top-level commands, each name once", async () => {
    const seen = new Set<string>();
    for (const c of COMMANDS) {
      const p = new Command('sisock');
      (await c.load()).register(p);
      expect(p.commands.map((x) => x.name()).sort()).toEqual([...c.names].sort());
      for (const n of c.names) {
        expect(seen.has(n)).toBe(false);
        seen.add(n);
      }
    }
  });

  it('has every command module of bin/commands (each that exports register) in the table', async () => {
    const dir = path.join(__dirname, '..', '..', 'bin', 'commands');
    const listed = await Promise.all(COMMANDS.map((c) => c.load()));
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    let modules = 0;
    for (const f of files) {
      const mod = (await import(path.join(dir, f))) as { register?: unknown };
      if (typeof mod.register !== 'function') continue; // a piece of another command (node-archive.ts, export-options.ts)
      modules++;
      expect({ file: f, listed: listed.some((m) => m.register === mod.register) }).toEqual({ file: f, listed: true });
    }
    expect(modules).toBe(COMMANDS.length);
  });

  it('builds the named command alone, and every command when none is named', async () => {
    const names = (p: Command) => p.commands.map((x) => x.name()).sort();
    const all = COMMANDS.flatMap((c) => c.names).sort();
    expect(names(await buildProgram(['node', 'sisock', 'get', 'sim::x']))).toEqual(['call', 'fields', 'get', 'nodes', 'tail']);
    expect(names(await buildProgram(['node', 'sisock', 'router']))).toEqual(['router']);
    for (const argv of [
      [],
      ['node', 'sisock'],
      ['node', 'sisock', '--help'],
      ['node', 'sisock', 'help', 'get'],
      ['node', 'sisock', 'nods'],
    ])
      expect(names(await buildProgram(argv))).toEqual(all);
  });

  it("does not load the other commands' modules for a consumer command", () => {
    const got = modulesLoadedBy("await require('./bin/sisock.ts').buildProgram(['node', 'sisock', 'nodes'])", {
      consumer: '/bin/commands/consumer',
      grpc: '/@grpc/grpc-js/',
      express: '/node_modules/express/',
      mqtt: '/node_modules/mqtt/',
      grafana: '/consumers/grafana/app',
      metrics: '/node_modules/prom-client/',
    });
    expect(got).toEqual({ consumer: true, grpc: false, express: false, mqtt: false, grafana: false, metrics: false });
  }, 30000);
});
