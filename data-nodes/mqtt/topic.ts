/**
 * Topic patterns and name templates of the MQTT bridge.
 *
 * A pattern is an MQTT topic filter whose segments may hold named placeholders:
 *   `dcs/{supply}/ch{channel}/status`  subscribes to `dcs/+/+/status` and, for `dcs/hv/ch3/status`,
 *   captures {supply: "hv", channel: "3"}. `+` matches a segment without capturing; `#` (last
 *   segment only) matches the rest. A segment that is not a whole placeholder (`ch{channel}`) must
 *   match its literal parts, or the topic does not match the pattern.
 *
 * A template is a string with `{name}` placeholders filled from the captures: field, node and
 * timeline names, units, command topics.
 */
import { ConfigError } from '../../common/errors';

export type Captures = Record<string, string>;

interface Segment {
  kind: 'literal' | 'plus' | 'hash' | 'capture';
  literal?: string;
  /** capture: the segment regex and the names it captures in order */
  re?: RegExp;
  names?: string[];
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class TopicPattern {
  readonly filter: string;
  readonly names: string[];
  private readonly segments: Segment[];

  constructor(
    readonly pattern: string,
    at: string,
  ) {
    if (typeof pattern !== 'string' || pattern === '') throw new ConfigError(at, 'topic must be a non-empty string');
    const parts = pattern.split('/');
    this.segments = [];
    this.names = [];
    const filter: string[] = [];
    parts.forEach((seg, i) => {
      if (seg === '#') {
        if (i !== parts.length - 1) throw new ConfigError(at, `"#" must be the last segment of ${JSON.stringify(pattern)}`);
        this.segments.push({ kind: 'hash' });
        filter.push('#');
      } else if (seg === '+') {
        this.segments.push({ kind: 'plus' });
        filter.push('+');
      } else if (seg.includes('{')) {
        const names: string[] = [];
        let re = '^';
        let last = 0;
        for (const m of seg.matchAll(PLACEHOLDER)) {
          re += escapeRe(seg.slice(last, m.index));
          re += '(.+?)';
          names.push(m[1] ?? '');
          last = m.index! + m[0].length;
        }
        const rest = seg.slice(last);
        if (rest.includes('{') || rest.includes('}') || seg.slice(0, last).replace(PLACEHOLDER, '').match(/[{}]/)) {
          throw new ConfigError(at, `bad placeholder in segment ${JSON.stringify(seg)} (use {name} with letters, digits, _)`);
        }
        re += escapeRe(rest) + '$';
        for (const n of names) {
          if (this.names.includes(n)) throw new ConfigError(at, `placeholder {${n}} appears twice in ${JSON.stringify(pattern)}`);
          this.names.push(n);
        }
        this.segments.push({ kind: 'capture', re: new RegExp(re), names });
        filter.push('+');
      } else {
        if (seg.includes('+') || seg.includes('#'))
          throw new ConfigError(at, `"+" and "#" must fill a whole segment in ${JSON.stringify(pattern)}`);
        this.segments.push({ kind: 'literal', literal: seg });
        filter.push(seg);
      }
    });
    this.filter = filter.join('/');
  }

  /** Captures when `topic` matches, else null. */
  match(topic: string): Captures | null {
    const parts = topic.split('/');
    const segs = this.segments;
    const caps: Captures = {};
    for (const [i, s] of segs.entries()) {
      if (s.kind === 'hash') return caps;
      const p = parts[i];
      if (p === undefined) return null;
      if (s.kind === 'literal') {
        if (p !== s.literal) return null;
      } else if (s.kind === 'capture') {
        const m = s.re!.exec(p);
        if (!m) return null;
        s.names!.forEach((n, j) => (caps[n] = m[j + 1] ?? ''));
      }
    }
    return parts.length === segs.length ? caps : null;
  }
}

/** A compiled `{name}` template. */
export class Template {
  private readonly parts: Array<string | { name: string }>;
  readonly constant: boolean;

  constructor(
    readonly text: string,
    allowed: string[],
    at: string,
  ) {
    this.parts = [];
    let last = 0;
    for (const m of text.matchAll(PLACEHOLDER)) {
      if (m.index! > last) this.parts.push(text.slice(last, m.index));
      const name = m[1] ?? '';
      if (!allowed.includes(name))
        throw new ConfigError(
          at,
          `{${name}} is not a placeholder of the topic (have: ${allowed.map((a) => `{${a}}`).join(', ') || 'none'})`,
        );
      this.parts.push({ name });
      last = m.index! + m[0].length;
    }
    if (last < text.length) this.parts.push(text.slice(last));
    this.constant = this.parts.every((p) => typeof p === 'string');
  }

  render(caps: Captures): string {
    if (this.constant) return this.text;
    let s = '';
    for (const p of this.parts) s += typeof p === 'string' ? p : (caps[p.name] ?? '');
    return s;
  }
}

/** True when an MQTT topic filter `filter` can match `topic` (for overlap checks and tests). */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
