import { CallError, ErrorUri, type Handle } from '../../client';
import { silentLogger } from '../../common/log';
import { Announcer, ANNOUNCE_RETRY_MS, type AnnouncerClient } from '../../data-nodes/sdk/announce';

type Answer = boolean | Error;

/** A client with a scripted hub: records calls, answers data_node.add from `answers` (default true). */
class FakeClient {
  sessionId: number | null = 7;
  isReady = true;
  answers: Answer[] = [];
  calls: Array<{ procedure: string; args: unknown[] }> = [];
  topics = new Map<string, () => void>();
  opens: Array<() => unknown> = [];
  closes: Array<(reason: string) => void> = [];
  removed = 0;

  uri(suffix: string): string {
    return `org.test.${suffix}`;
  }

  async call<T>(procedure: string, args: unknown[] = []): Promise<T> {
    this.calls.push({ procedure, args });
    if (procedure.endsWith('data_node.subtract')) return null as T;
    const a = this.answers.shift() ?? true;
    if (a instanceof Error) throw a;
    return a as T;
  }

  async subscribe(topic: string, handler: () => void): Promise<Handle> {
    this.topics.set(topic, handler);
    return {
      remove: async () => {
        this.removed++;
      },
    } as Handle;
  }

  onOpen(cb: () => unknown): () => void {
    this.opens.push(cb);
    return () => {
      this.opens = this.opens.filter((c) => c !== cb);
    };
  }

  onClose(cb: (reason: string) => void): () => void {
    this.closes.push(cb);
    return () => {
      this.closes = this.closes.filter((c) => c !== cb);
    };
  }

  adds(): unknown[][] {
    return this.calls.filter((c) => c.procedure === 'org.test.data_node.add').map((c) => c.args);
  }
}

function make(client = new FakeClient()): { client: FakeClient; a: Announcer } {
  const a = new Announcer(client as unknown as AnnouncerClient, 'n1', 'a node', silentLogger);
  return { client, a };
}

describe('Announcer', () => {
  afterEach(() => jest.useRealTimers());

  test('announces with (name, description, session id) and opens ready()', async () => {
    const { client, a } = make();
    expect(a.announced).toBe(false);
    await a.announce('test');
    expect(client.adds()).toEqual([['n1', 'a node', 7]]);
    expect(a.announced).toBe(true);
    await expect(a.ready(10)).resolves.toBeUndefined();
  });

  test('does nothing without a session', async () => {
    const { client, a } = make();
    client.sessionId = null;
    await a.announce('test');
    client.sessionId = 7;
    client.isReady = false;
    await a.announce('test');
    expect(client.adds()).toEqual([]);
    await expect(a.ready(5)).rejects.toThrow(/not announced after 5 ms/);
  });

  test('no hub yet: waits for hub.started, then announces again', async () => {
    const { client, a } = make();
    client.answers = [new CallError(ErrorUri.NO_SUCH_PROCEDURE, 'org.test.data_node.add')];
    await a.subscribeHubStarted();
    await a.announce('session open');
    expect(a.announced).toBe(false);
    jest.useFakeTimers();
    jest.advanceTimersByTime(60_000);
    expect(client.adds()).toHaveLength(1); // no retry timer: the hub will say when it starts
    jest.useRealTimers();
    const started = client.topics.get('org.test.hub.started');
    expect(started).toBeDefined();
    started?.();
    await a.ready(1000);
    expect(client.adds()).toHaveLength(2);
  });

  test('a refused name is retried every 5 s; another failure every 2 s', async () => {
    jest.useFakeTimers();
    const { client, a } = make();
    client.answers = [false, new CallError(ErrorUri.TIMEOUT, 'org.test.data_node.add'), true];
    await a.announce('first');
    expect(a.announced).toBe(false);
    await jest.advanceTimersByTimeAsync(ANNOUNCE_RETRY_MS.nameTaken - 1);
    expect(client.adds()).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(client.adds()).toHaveLength(2);
    expect(a.announced).toBe(false);
    await jest.advanceTimersByTimeAsync(ANNOUNCE_RETRY_MS.failed);
    expect(client.adds()).toHaveLength(3);
    expect(a.announced).toBe(true);
  });

  test('an answer for an older session is ignored', async () => {
    const { client, a } = make();
    const call = client.call.bind(client);
    client.call = async <T>(procedure: string, args: unknown[] = []): Promise<T> => {
      const r = await call<T>(procedure, args);
      client.sessionId = 8; // the session changed while the call was in flight
      return r;
    };
    await a.announce('test');
    expect(a.announced).toBe(false);
  });

  test('followSessions: a closed session resets, a new one announces', async () => {
    const { client, a } = make();
    a.followSessions();
    await a.announce('first');
    expect(a.announced).toBe(true);
    for (const c of client.closes) c('lost');
    expect(a.announced).toBe(false);
    client.sessionId = 9;
    await Promise.all(client.opens.map((c) => c()));
    expect(a.announced).toBe(true);
    expect(client.adds().at(-1)).toEqual(['n1', 'a node', 9]);
  });

  test('concurrent announcements share one call', async () => {
    const { client, a } = make();
    await Promise.all([a.announce('a'), a.announce('b'), a.announce('c')]);
    expect(client.adds()).toHaveLength(1);
  });

  test('withdraw: data_node.subtract when announced, no more announcements, ready() rejects', async () => {
    const { client, a } = make();
    a.followSessions();
    await a.announce('first');
    await a.withdraw();
    expect(client.calls.at(-1)).toEqual({ procedure: 'org.test.data_node.subtract', args: ['n1', 7] });
    expect(client.opens).toHaveLength(0);
    expect(client.closes).toHaveLength(0);
    await a.announce('late');
    expect(client.adds()).toHaveLength(1);
    await expect(a.ready()).rejects.toThrow(/closed/);
  });

  test('withdraw when never announced makes no subtract call', async () => {
    const { client, a } = make();
    client.answers = [false];
    jest.useFakeTimers();
    await a.announce('first');
    await a.withdraw();
    await jest.advanceTimersByTimeAsync(ANNOUNCE_RETRY_MS.nameTaken * 2);
    expect(client.calls.map((c) => c.procedure)).toEqual(['org.test.data_node.add']);
  });
});
