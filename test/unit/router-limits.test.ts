import { AuthThrottle, peerHost } from '../../router/auth/throttle';
import { Admission } from '../../router/admission';
import type { Connection } from '../../transport/types';

describe('AuthThrottle', () => {
  let t = 0;
  const mk = (o = {}) => new AuthThrottle({ freeFailures: 2, baseLockMs: 1000, maxLockMs: 8000, now: () => t, ...o });
  beforeEach(() => {
    t = 0;
  });

  test('free failures, then exponentially longer locks up to the maximum', () => {
    const th = mk();
    expect(th.failure('1.2.3.4', 'x')).toBe(0);
    expect(th.failure('1.2.3.4', 'x')).toBe(0);
    expect(th.check('1.2.3.4', 'x')).toBeNull();
    expect(th.failure('1.2.3.4', 'x')).toBe(1000);
    expect(th.check('1.2.3.4', 'x')).toEqual({ key: 'ip', retryAfterMs: 1000 });
    expect(th.failure('1.2.3.4', 'x')).toBe(2000);
    expect(th.failure('1.2.3.4', 'x')).toBe(4000);
    expect(th.failure('1.2.3.4', 'x')).toBe(8000);
    expect(th.failure('1.2.3.4', 'x')).toBe(8000);
    t += 8000;
    expect(th.check('1.2.3.4', 'x')).toBeNull();
    expect(th.failures).toBe(7);
    expect(th.lockouts).toBe(1);
  });

  test('the authid is locked from any address; the address is locked for any authid', () => {
    const th = mk();
    for (let i = 0; i < 3; i++) th.failure(`10.0.0.${i}`, 'hub');
    expect(th.check('10.9.9.9', 'hub')).toMatchObject({ key: 'authid' });
    expect(th.check('10.9.9.9', 'other')).toBeNull();
    for (let i = 0; i < 3; i++) th.failure('10.0.0.50', `user${i}`);
    expect(th.check('10.0.0.50', 'fresh')).toMatchObject({ key: 'ip' });
  });

  test("a pair that authenticated recently is never locked out by someone else's guessing", () => {
    const th = mk();
    th.success('10.0.0.1', 'hub');
    for (let i = 0; i < 10; i++) th.failure('10.0.0.1', 'hub'); // attacker on the same host
    expect(th.check('10.0.0.1', 'hub')).toBeNull();
    expect(th.check('10.0.0.1', 'other')).toMatchObject({ key: 'ip' });
    expect(th.check('10.0.0.2', 'hub')).toMatchObject({ key: 'authid' });
  });

  test('success clears the counts; state stays bounded under a flood of addresses', () => {
    const th = mk({ maxEntries: 100 });
    th.failure('a', 'u');
    th.failure('a', 'u');
    th.success('a', 'u');
    th.failure('a', 'v');
    th.failure('a', 'v');
    expect(th.check('a', 'v')).toBeNull();
    for (let i = 0; i < 10_000; i++) th.failure(`ip${i}`, `id${i}`);
    expect(th.size).toBeLessThanOrEqual(300);
  });

  test('entries idle for forgetMs are forgotten', () => {
    const th = mk({ forgetMs: 60_000 });
    for (let i = 0; i < 3; i++) th.failure('a', 'u');
    t += 61_000;
    expect(th.failure('a', 'u')).toBe(0); // counted from scratch
  });

  test('peerHost', () => {
    expect(peerHost('tcp4:127.0.0.1:5000')).toBe('127.0.0.1');
    expect(peerHost('tcp6:::1:5000')).toBe('::1');
    expect(peerHost('unknown')).toBe('unknown');
  });
});

describe('Admission', () => {
  const conn = (peer: string) => ({ info: { peer } }) as unknown as Connection;

  test('caps per address and in total; release frees a slot, idempotently', () => {
    const a = new Admission({ maxConnections: 3, maxConnectionsPerIp: 2 });
    const c1 = conn('tcp4:1.1.1.1:1');
    expect(a.admit(c1)).toBeNull();
    expect(a.admit(conn('tcp4:1.1.1.1:2'))).toBeNull();
    expect(a.admit(conn('tcp4:1.1.1.1:3'))).toMatch(/max_connections_per_ip/);
    expect(a.admit(conn('tcp4:2.2.2.2:1'))).toBeNull();
    expect(a.admit(conn('tcp4:3.3.3.3:1'))).toMatch(/max_connections\)/);
    expect(a.refused).toBe(2);
    a.release(c1);
    a.release(c1);
    expect(a.size).toBe(2);
    expect(a.admit(conn('tcp4:1.1.1.1:4'))).toBeNull();
  });
});
