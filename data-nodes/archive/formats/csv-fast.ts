/**
 * The fast path of the CSV decoder: a file whose data rows are all plain numbers (the common logger
 * file) is read in one pass over its character codes, each number built from its digits (exact:
 * Clinger's fast path, mantissa < 2^53 and a power of ten ≤ 22, else `Number()` on the cell), without
 * splitting lines or cells and without regular expressions. Anything else — a quote, an empty or
 * non-numeric cell, a row of another width, a comment — returns null and the general decoder reads the
 * file as before, so results never differ.
 */

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

export interface FastRows {
  t: Float64Array;
  cols: Float64Array[];
}

/**
 * Rows of `text` from offset `pos`, `width` cells separated by `delim`, column `timeIdx` the time
 * (divided by 1000 when `ms` or > 1e12), the others data columns in order. Null: not plain numeric.
 */
export function fastNumericRows(text: string, pos: number, delim: string, width: number, timeIdx: number, ms: boolean): FastRows | null {
  const d = delim.charCodeAt(0);
  const n = text.length;
  // a row holds `width` cells, so at least `width` characters: no more rows than that to start with (1024
  // rows of every column of a 100,000-cell header were 800 MB before a row was read)
  let cap = Math.max(1, Math.min(1024, Math.floor((n - pos) / width) + 1));
  let t = new Float64Array(cap);
  let cols = Array.from({ length: width - 1 }, () => new Float64Array(cap));
  let rows = 0;
  const row = new Float64Array(width);
  let i = pos;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c === 10) {
      i++;
      continue;
    } // blank line
    if (c === 13 && text.charCodeAt(i + 1) === 10) {
      i += 2;
      continue;
    }
    for (let k = 0; k < width; k++) {
      // one number: [+-]digits[.digits][(e|E)[+-]digits]
      const start = i;
      let neg = false;
      c = text.charCodeAt(i);
      if (c === 45 || c === 43) {
        neg = c === 45;
        c = text.charCodeAt(++i);
      }
      let mant = 0;
      let digits = 0;
      let frac = 0;
      while (c >= 48 && c <= 57) {
        mant = mant * 10 + (c - 48);
        digits++;
        c = text.charCodeAt(++i);
      }
      if (c === 46) {
        c = text.charCodeAt(++i);
        while (c >= 48 && c <= 57) {
          mant = mant * 10 + (c - 48);
          digits++;
          frac++;
          c = text.charCodeAt(++i);
        }
      }
      if (digits === 0) return null;
      let exp = 0;
      if (c === 101 || c === 69) {
        c = text.charCodeAt(++i);
        let eneg = false;
        if (c === 45 || c === 43) {
          eneg = c === 45;
          c = text.charCodeAt(++i);
        }
        let ed = 0;
        while (c >= 48 && c <= 57) {
          exp = exp * 10 + (c - 48);
          ed++;
          c = text.charCodeAt(++i);
        }
        if (ed === 0) return null;
        if (eneg) exp = -exp;
      }
      exp -= frac;
      let v: number;
      if (mant <= 9007199254740991 && exp >= -22 && exp <= 22) v = exp < 0 ? mant / (POW10[-exp] ?? 1) : mant * (POW10[exp] ?? 1);
      else v = Number(text.slice(neg || text.charCodeAt(start) === 43 ? start + 1 : start, i));
      row[k] = neg ? -v : v;
      // after the cell: the delimiter, or the end of the row on the last cell
      if (k < width - 1) {
        if (c !== d) return null;
        i++;
      } else if (i < n) {
        if (c === 13 && text.charCodeAt(i + 1) === 10) i += 2;
        else if (c === 10) i++;
        else return null;
      }
    }
    if (rows === cap) {
      cap *= 2;
      const nt = new Float64Array(cap);
      nt.set(t);
      t = nt;
      cols = cols.map((col) => {
        const x = new Float64Array(cap);
        x.set(col);
        return x;
      });
    }
    let tv = row[timeIdx] ?? NaN;
    if (ms || tv > 1e12) tv /= 1000;
    if (!Number.isFinite(tv)) return null;
    t[rows] = tv;
    for (let k = 0, j = 0; k < width; k++) {
      if (k === timeIdx) continue;
      const col = cols[j++];
      if (col) col[rows] = row[k] ?? NaN;
    }
    rows++;
  }
  return { t: t.slice(0, rows), cols: cols.map((col) => col.slice(0, rows)) };
}
