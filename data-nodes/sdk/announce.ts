/**
 * The announcer: keeps a node announced to the hub (docs/contract.md section 1).
 *
 *   - on every new session (and when the client is already open): `data_node.add(name,
 *     description, session_id)`;
 *   - on `hub.started` (a hub that just started knows nobody): announces again;
 *   - no hub yet (`no_such_procedure`): waits for `hub.started`; a `false` answer (the name is held
 *     by another live node): logged, retried every 5 s; any other failure: retried every 2 s;
 *   - `withdraw()`: `data_node.subtract(name, session_id)` when announced, then stops.
 *
 * One announcement at a time; `announced` is true while the hub has accepted the node on the
 * current session, and `ready()` waits for that.
 */
import type { Logger } from '../../common/log';
import { ReadyGate } from '../../common/ready';
import { HubUri } from '../../contract';
import { classifyCallError, type Handle, type SisockClient } from '../../client';

/** What the announcer uses of a client (a fake one in tests). */
export type AnnouncerClient = Pick<SisockClient, 'sessionId' | 'isReady' | 'call' | 'subscribe' | 'onOpen' | 'onClose' | 'uri'>;

/** Retry delays, ms. */
export const ANNOUNCE_RETRY_MS = { nameTaken: 5000, failed: 2000 } as const;

export class Announcer {
  /** Open while the hub has accepted the node on the current session. */
  private readonly gate: ReadyGate;
  private announcing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private undo: Array<() => void> = [];
  private readonly uAdd: string;
  private readonly uSubtract: string;

  constructor(
    private readonly client: AnnouncerClient,
    private readonly name: string,
    private readonly description: string,
    private readonly log: Logger,
  ) {
    this.gate = new ReadyGate((ms) => new Error(`data node ${name} not announced after ${ms} ms`));
    this.uAdd = client.uri(HubUri.DATA_NODE_ADD);
    this.uSubtract = client.uri(HubUri.DATA_NODE_SUBTRACT);
  }

  /** True after the hub last answered data_node.add with true (on the current session). */
  get announced(): boolean {
    return this.gate.isOpen;
  }

  /** Resolves when announced; rejects after `timeoutMs` or once withdrawn. */
  ready(timeoutMs?: number): Promise<void> {
    return this.gate.wait(timeoutMs);
  }

  /** Subscribes to `hub.started` (persistent: made again on every session). */
  subscribeHubStarted(): Promise<Handle> {
    return this.client.subscribe(this.client.uri(HubUri.HUB_STARTED), () => {
      this.gate.reset();
      void this.announce('hub started');
    });
  }

  /** Announces on every new session and forgets the announcement when a session ends. */
  followSessions(): void {
    this.undo.push(this.client.onClose(() => this.gate.reset()));
    this.undo.push(this.client.onOpen(() => this.announce('session open')));
  }

  /** One announcement (or joins the one running, then announces again if it did not succeed). */
  announce(why: string): Promise<void> {
    if (this.closing) return Promise.resolve();
    if (this.announcing) return this.announcing.then(() => (this.gate.isOpen ? undefined : this.announce(why)));
    this.announcing = this.once(why).finally(() => {
      this.announcing = null;
    });
    return this.announcing;
  }

  private async once(why: string): Promise<void> {
    const { client, log, name } = this;
    const sid = client.sessionId;
    if (sid === null || !client.isReady) return;
    try {
      const ok = await client.call<boolean>(this.uAdd, [name, this.description, sid], {}, { timeoutMs: 10000 });
      if (client.sessionId !== sid) return;
      if (ok === true) {
        if (!this.gate.isOpen) log.info({ why, session: sid }, 'announced to hub');
        this.gate.open();
      } else {
        this.gate.reset();
        log.error({ why }, `hub refused the name "${name}": another live node holds it; retrying every 5 s`);
        this.retry(ANNOUNCE_RETRY_MS.nameTaken);
      }
    } catch (err) {
      this.gate.reset();
      if (classifyCallError(err) === 'not-found') log.info('no hub yet; will announce when it starts');
      else {
        log.warn({ err: (err as Error).message }, 'announce failed; retrying');
        this.retry(ANNOUNCE_RETRY_MS.failed);
      }
    }
  }

  private retry(delayMs: number): void {
    if (this.closing) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.announce('retry');
    }, delayMs);
  }

  /** `data_node.subtract` when announced, then no more announcements; `ready()` rejects from now on. */
  async withdraw(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const sid = this.client.sessionId;
    if (sid !== null && this.gate.isOpen) {
      await this.client.call(this.uSubtract, [this.name, sid], {}, { timeoutMs: 2000 }).catch(() => {});
    }
    this.gate.close(new Error(`data node ${this.name} closed`));
    for (const u of this.undo.splice(0)) u();
  }
}
