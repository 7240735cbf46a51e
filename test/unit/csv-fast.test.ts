/**
 * The CSV decoder's numeric fast path (formats/csv-fast.ts) against `Number()` on every cell, for random
 * numbers in every notation the general path accepts; and its hand-offs to the general path.
 */
import fc from 'fast-check';
import { decodeCsv } from '../../data-nodes/archive/formats/csv';
import { fastNumericRows } from '../../data-nodes/archive/formats/csv-fast';

const cell = fc.oneof(
  fc.integer({ min: -1e9, max: 1e9 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x.toFixed(3)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x.toExponential(8)),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map((x) => `${x}.5`),
  fc.constantFrom('0', '-0', '+1', '.5', '5.', '1e5', '1E-5', '12345678901234567890', '0.1', '9007199254740993'),
);

describe('CSV numeric fast path', () => {
  it('reads every number exactly as Number() does', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(cell, cell), { minLength: 1, maxLength: 50 }), fc.boolean(), (rows, crlf) => {
        const nl = crlf ? '\r\n' : '\n';
        const text = rows.map(([a, b], i) => `${1.7e9 + i * 0.1},${a},${b}`).join(nl) + nl;
        const r = fastNumericRows(text, 0, ',', 3, 0, false);
        expect(r).not.toBeNull();
        expect(Array.from(r?.cols[0] ?? [])).toEqual(rows.map(([a]) => Number(a)));
        expect(Array.from(r?.cols[1] ?? [])).toEqual(rows.map(([, b]) => Number(b)));
      }),
      { numRuns: 300 },
    );
  });

  it('hands anything but plain numbers to the general path, which gives the same shapes', () => {
    for (const odd of ['1,,2', '1,"2",3', '1,abc,3', '1,2', '1,2,3,4', '1, 2,3', '#c\n1,2,3', '1,nan,3']) {
      expect(fastNumericRows(`${odd}\n`, 0, ',', 3, 0, false)).toBeNull();
    }
    const fast = decodeCsv(Buffer.from('time,a,b\n3,1.5,2\n1,2.5,-3e2\n2,1,0\n'), { relPath: 'x.csv' });
    const slow = decodeCsv(Buffer.from('time,a,b\n3,1.5,2\n1,2.5,-3e2\n2, 1,0\n'), { relPath: 'x.csv' }); // a space: general path
    expect(fast).toEqual(slow);
    expect(Array.from(fast.timelines[0]?.t ?? [])).toEqual([1, 2, 3]);
  });
});
