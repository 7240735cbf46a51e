/**
 * What the hub asks the router's meta API: is a session alive, who is the callee of a procedure,
 * which `consumer.<name>.get_data` registrations exist. Each answer says "cannot tell" (null)
 * when the router has no meta API or refuses it (a Crossbar role without those permissions).
 */
import { CallError, ErrorUri, MetaUri, type SisockClient } from '../client';
import type { Logger } from '../common/log';

export interface RegisteredNode {
  name: string;
  callee: number;
}

export class RouterQueries {
  constructor(
    private readonly client: SisockClient,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** true: the router has this session; false: it does not; null: cannot tell. */
  async sessionAlive(sessionId: number): Promise<boolean | null> {
    try {
      await this.client.call(MetaUri.session.GET, [sessionId], {}, { timeoutMs: this.timeoutMs });
      return true;
    } catch (err) {
      if (err instanceof CallError && err.uri === ErrorUri.NO_SUCH_SESSION) return false;
      this.log.warn({ err: (err as Error).message }, `${MetaUri.session.GET} failed; treating the session as alive`);
      return null;
    }
  }

  /** Callee sessions of the exact registration of `uri` ([] when nobody registered it); null: cannot tell. */
  async calleesOf(uri: string): Promise<number[] | null> {
    try {
      const id = await this.client.call<number | null>(MetaUri.registration.LOOKUP, [uri], {}, { timeoutMs: this.timeoutMs });
      if (typeof id !== 'number') return [];
      const callees = await this.client.call<unknown>(MetaUri.registration.LIST_CALLEES, [id], {}, { timeoutMs: this.timeoutMs });
      return Array.isArray(callees) ? callees.filter((c): c is number => typeof c === 'number') : [];
    } catch (err) {
      if (err instanceof CallError && err.uri === ErrorUri.NO_SUCH_REGISTRATION) return [];
      this.log.debug({ uri, err: (err as Error).message }, 'registration meta API unavailable; cannot check the callee');
      return null;
    }
  }

  /**
   * Every registration whose URI `nodeName` maps to a node name (the `consumer.<name>.get_data`
   * ones), with its first callee; null when the router has no registration meta API.
   */
  async registeredNodes(nodeName: (uri: string) => string | null): Promise<RegisteredNode[] | null> {
    let ids: number[];
    try {
      const list = await this.client.call<{ exact?: number[] }>(MetaUri.registration.LIST, [], {}, { timeoutMs: this.timeoutMs });
      ids = Array.isArray(list?.exact) ? list.exact : [];
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'no registration meta API; relying on hub.started');
      return null;
    }
    const found = await Promise.all(
      ids.map(async (id): Promise<RegisteredNode | null> => {
        try {
          const reg = await this.client.call<{ uri?: string }>(MetaUri.registration.GET, [id], {}, { timeoutMs: this.timeoutMs });
          const name = typeof reg?.uri === 'string' ? nodeName(reg.uri) : null;
          if (name === null) return null;
          const callees = await this.client.call<unknown>(MetaUri.registration.LIST_CALLEES, [id], {}, { timeoutMs: this.timeoutMs });
          const callee = Array.isArray(callees) ? callees[0] : undefined;
          return typeof callee === 'number' ? { name, callee } : null;
        } catch (err) {
          this.log.debug({ id, err: (err as Error).message }, 'registration vanished during rebuild');
          return null;
        }
      }),
    );
    return found.filter((f): f is RegisteredNode => f !== null);
  }
}
