/**
 * Loss detection from sequence numbers in payloads (a topic's `sequence: <path>`): per topic the
 * last number seen; a jump forward by more than one means messages were lost on the way (broker
 * drop, a broker crash, a publisher's own loss) and counts the missing ones. A number at or below
 * the last is a redelivery or reordering and is ignored, except a large step back (a publisher
 * that restarted counting), which starts over. Bounded: at most `maxKeys` topics, oldest dropped.
 */

/** A step back larger than this restarts the count instead of being taken for a reordering. */
const RESTART_STEP = 1000;

export class SequenceGaps {
  private readonly last = new Map<string, number>();
  /** gaps seen (events) and messages missing in them */
  gaps = 0;
  missing = 0;

  constructor(private readonly maxKeys = 10_000) {}

  /** Notes `seq` on `key`; returns how many messages are missing just before it (0 when none). */
  observe(key: string, seq: number): number {
    if (!Number.isSafeInteger(seq)) return 0;
    const prev = this.last.get(key);
    if (prev !== undefined && seq <= prev && prev - seq <= RESTART_STEP) return 0;
    this.last.delete(key);
    this.last.set(key, seq);
    if (this.last.size > this.maxKeys) {
      const first = this.last.keys().next();
      if (first.done !== true) this.last.delete(first.value);
    }
    if (prev === undefined || seq <= prev + 1) return 0;
    const n = seq - prev - 1;
    this.gaps++;
    this.missing += n;
    return n;
  }
}
