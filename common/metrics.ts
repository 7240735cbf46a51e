/** Small prom-client helpers shared by the router and the nodes. */
import { Counter, type Registry } from 'prom-client';

/**
 * Registers a counter named `name` whose value is `read()` at each scrape: the running total is
 * kept elsewhere as a plain number (no prom-client call where it is counted).
 */
export function scrapedTotal(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
