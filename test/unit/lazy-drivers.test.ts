/**
 * The database drivers (mysql2, pg) are loaded when a MySQL/PostgreSQL database is opened, not when the
 * modules that can open one are: `sisock node <kind>` loads every node kind's modules, and the two cost
 * ~90 ms of each start. Checked in a fresh process (test/helpers/loaded-modules.ts).
 */
import { modulesLoadedBy } from '../helpers/loaded-modules';

const loadedAfter = (script: string) => modulesLoadedBy(script, { mysql2: 'node_modules/mysql2/', pg: 'node_modules/pg/' });

describe('database drivers load on first use', () => {
  test('the archive and SQL node modules, and a SQLite index opened and used, load neither', () => {
    const got = loadedAfter(
      "require('./data-nodes/sql/index.ts'); require('./data-nodes/archive/node.ts');" +
        "const { openIndexDb } = require('./data-nodes/archive/index-db/index.ts');" +
        "const db = openIndexDb('sqlite::memory:'); await db.migrate(); await db.listFiles(); await db.close()",
    );
    expect(got).toEqual({ mysql2: false, pg: false });
  }, 30000);

  test('a MySQL index loads mysql2 when it is opened (the check can fail)', () => {
    // No server needed: the pool is made, never connected; close() ends it.
    const got = loadedAfter(
      "const { openIndexDb } = require('./data-nodes/archive/index-db/index.ts');" +
        "const db = openIndexDb('mysql://nobody@127.0.0.1:1/none'); await db.close()",
    );
    expect(got).toEqual({ mysql2: true, pg: false });
  }, 30000);
});
