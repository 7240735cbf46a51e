/**
 * The hub's registry of online data nodes: names ↔ sessions ↔ descriptions, with the bounds that
 * keep every `get_data_node` answer small. Pure state, no WAMP calls: hub/hub.ts asks the router
 * (who is calling, is a session alive) and tells this module what to do.
 *
 * Bounds (RegistryLimits): a name is 1..maxNameLength characters of [A-Za-z0-9_-] (it becomes a
 * URI component, `consumer.<name>.get_data`); a description is at most maxDescriptionBytes UTF-8
 * bytes; one session holds at most maxNamesPerSession names; the whole list (names plus
 * descriptions) is at most maxTotalBytes, so `get_data_node` stays far below the router's
 * message size whatever the nodes announce.
 */
import { NODE_NAME_MAX, NODE_NAME_RE, NODE_NAME_RULE } from '../contract';

export interface NodeRecord {
  name: string;
  description: string;
  sessionId: number;
  /** UNIX seconds when the hub accepted it. */
  added: number;
}

export interface RegistryLimits {
  maxNameLength: number;
  maxDescriptionBytes: number;
  maxNamesPerSession: number;
  /** Sum over all entries of name + description UTF-8 bytes. */
  maxTotalBytes: number;
}

export const DEFAULT_REGISTRY_LIMITS: Readonly<RegistryLimits> = Object.freeze({
  maxNameLength: NODE_NAME_MAX,
  maxDescriptionBytes: 4096,
  maxNamesPerSession: 32,
  maxTotalBytes: 1024 * 1024,
});

/** Outcome of NodeRegistry.add. */
export type AddOutcome =
  | { kind: 'added'; record: NodeRecord }
  | { kind: 'updated'; record: NodeRecord }
  /** another session holds the name: the caller decides (refuse, or take over if that session is gone) */
  | { kind: 'held'; holder: number }
  /** a count or size bound would be exceeded */
  | { kind: 'limit'; message: string };

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export class NodeRegistry {
  readonly limits: RegistryLimits;
  /** name → record, in order of arrival */
  private readonly byName = new Map<string, NodeRecord>();
  /** session id → names it holds (reverse index, for on_leave) */
  private readonly bySession = new Map<number, Set<string>>();
  private totalBytes = 0;

  constructor(
    limits: Partial<RegistryLimits> = {},
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...limits };
  }

  /** Why this name cannot be listed, or null when it can. */
  checkName(name: unknown): string | null {
    if (typeof name !== 'string' || name === '') return 'name must be a non-empty string';
    if (name.length > this.limits.maxNameLength) return `name longer than ${this.limits.maxNameLength} characters`;
    if (!NODE_NAME_RE.test(name)) return `name may contain ${NODE_NAME_RULE}`;
    return null;
  }

  /** Why this description cannot be listed, or null when it can. */
  checkDescription(description: unknown): string | null {
    if (description === null || description === undefined) return null;
    if (typeof description !== 'string') return 'description must be a string';
    // length in UTF-16 units bounds the byte count from below: no need to encode a huge string
    if (description.length > this.limits.maxDescriptionBytes || bytes(description) > this.limits.maxDescriptionBytes) {
      return `description longer than ${this.limits.maxDescriptionBytes} bytes`;
    }
    return null;
  }

  get(name: string): NodeRecord | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** Bytes of names and descriptions listed now. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Names a session holds. */
  namesOf(sessionId: number): string[] {
    return [...(this.bySession.get(sessionId) ?? [])];
  }

  /** Every session that holds a name. */
  sessions(): number[] {
    return [...this.bySession.keys()];
  }

  /** Records in order of arrival (copies). */
  list(): NodeRecord[] {
    return [...this.byName.values()].map((r) => ({ ...r }));
  }

  /** What `consumer.get_data_node` answers. */
  publicList(): Array<{ name: string; description: string }> {
    return [...this.byName.values()].map((r) => ({ name: r.name, description: r.description }));
  }

  /**
   * Lists `name` for `sessionId` (name and description must have passed checkName /
   * checkDescription). A name the same session holds gets its description updated.
   */
  add(name: string, description: string, sessionId: number): AddOutcome {
    const cur = this.byName.get(name);
    if (cur && cur.sessionId !== sessionId) return { kind: 'held', holder: cur.sessionId };
    const delta = bytes(description) - (cur ? bytes(cur.description) : -bytes(name));
    if (this.totalBytes + delta > this.limits.maxTotalBytes) {
      return { kind: 'limit', message: `the hub lists at most ${this.limits.maxTotalBytes} bytes of names and descriptions` };
    }
    if (cur) {
      cur.description = description;
      this.totalBytes += delta;
      return { kind: 'updated', record: { ...cur } };
    }
    const held = this.bySession.get(sessionId);
    if (held && held.size >= this.limits.maxNamesPerSession) {
      return { kind: 'limit', message: `one session may hold at most ${this.limits.maxNamesPerSession} names` };
    }
    const record: NodeRecord = { name, description, sessionId, added: this.now() };
    this.byName.set(name, record);
    if (held) held.add(name);
    else this.bySession.set(sessionId, new Set([name]));
    this.totalBytes += delta;
    return { kind: 'added', record: { ...record } };
  }

  /** Removes `name`; with `sessionId`, only when that session holds it. Returns the removed record. */
  remove(name: string, sessionId?: number): NodeRecord | null {
    const rec = this.byName.get(name);
    if (!rec || (sessionId !== undefined && rec.sessionId !== sessionId)) return null;
    this.byName.delete(name);
    const names = this.bySession.get(rec.sessionId);
    if (names) {
      names.delete(name);
      if (names.size === 0) this.bySession.delete(rec.sessionId);
    }
    this.totalBytes -= bytes(rec.name) + bytes(rec.description);
    return rec;
  }

  /** Removes every name of a session (it left). Returns the removed records. */
  removeSession(sessionId: number): NodeRecord[] {
    const out: NodeRecord[] = [];
    for (const n of this.namesOf(sessionId)) {
      const r = this.remove(n);
      if (r) out.push(r);
    }
    return out;
  }
}
