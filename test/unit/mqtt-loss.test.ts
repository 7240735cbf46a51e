import { SequenceGaps } from '../../data-nodes/mqtt/sequence';
import { SysDropWatch } from '../../data-nodes/mqtt/broker-loss';

describe('SequenceGaps', () => {
  test('counts the numbers missing in a jump, per topic', () => {
    const g = new SequenceGaps();
    expect(g.observe('a', 1)).toBe(0);
    expect(g.observe('a', 2)).toBe(0);
    expect(g.observe('b', 100)).toBe(0);
    expect(g.observe('a', 6)).toBe(3);
    expect(g.observe('b', 101)).toBe(0);
    expect([g.gaps, g.missing]).toEqual([1, 3]);
  });

  test('redeliveries and small reorderings are ignored; a large step back restarts', () => {
    const g = new SequenceGaps();
    g.observe('a', 5000);
    expect(g.observe('a', 4999)).toBe(0);
    expect(g.observe('a', 5000)).toBe(0);
    expect(g.observe('a', 5001)).toBe(0);
    expect(g.observe('a', 0)).toBe(0); // publisher restarted
    expect(g.observe('a', 2)).toBe(1);
    expect(g.observe('a', Number.NaN)).toBe(0);
  });

  test('bounded number of topics', () => {
    const g = new SequenceGaps(10);
    for (let i = 0; i < 1000; i++) g.observe(`t${i}`, 1);
    expect(g.observe('t0', 5)).toBe(0); // forgotten: a new baseline
    expect(g.observe('t999', 5)).toBe(3);
  });
});

describe('SysDropWatch', () => {
  test('the first value is a baseline; increases are drops; a reset or junk adds nothing', () => {
    const w = new SysDropWatch();
    expect(w.onPayload('27048')).toBe(0);
    expect(w.onPayload('27050')).toBe(2);
    expect(w.onPayload('junk')).toBe(0);
    expect(w.onPayload('10')).toBe(0); // broker restarted
    expect(w.onPayload('15')).toBe(5);
    w.reset();
    expect(w.onPayload('100')).toBe(0);
    expect(w.total).toBe(7);
  });
});
