/**
 * Hooks every benchmark server process (relay, sisock router, fox-wamp) installs:
 * - IPC `{cmd:'mem'}` → replies `{type:'mem', mem}` with process.memoryUsage() taken after a full GC
 *   (when started with --expose-gc);
 * - IPC `{cmd:'exit'}`, SIGTERM, SIGINT or a lost IPC channel → process.exit(0), so `--cpu-prof`
 *   profiles get written and no orphan survives the orchestrator.
 */
export function installServerProcHooks(): void {
  const exit = () => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  process.on('disconnect', exit);
  process.on('message', (m: unknown) => {
    const cmd = (m as { cmd?: string } | null)?.cmd;
    if (cmd === 'exit') exit();
    if (cmd === 'mem') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        gc();
        gc();
      }
      process.send?.({ type: 'mem', mem: process.memoryUsage() });
    }
  });
}
