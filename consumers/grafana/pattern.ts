/**
 * Linear-time pattern matching for what clients send: globs (`*`, `?`, `{a,b}`) in targets and
 * /search, and regular expressions in ad hoc filters (`=~`, `!~`).
 *
 * Both compile to a Thompson NFA that is simulated state-set by state-set (no backtracking), so a
 * match costs O(pattern states × subject length) whatever the pattern: `{*,*}{*,*}…z` or `(a+)+$`
 * cannot stall the event loop the way JavaScript's backtracking RegExp can.
 *
 * The regex dialect is JavaScript's without flags, minus what needs backtracking: backreferences
 * (`\1`, `\k<n>`) and lookarounds (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`) are refused. Lazy
 * quantifiers are accepted (for a yes/no match they mean the same as greedy ones).
 */
import { badRequest } from './errors';

/** Longest glob pattern (longer → 400). */
export const MAX_GLOB_LENGTH = 512;
/** Longest ad hoc filter regular expression (longer → 400). */
export const MAX_REGEX_LENGTH = 200;
/** Most NFA states one pattern may compile to (counted repetition expands; more → 400). */
export const MAX_STATES = 4000;
/** Largest bound in a counted repetition `{n,m}`. */
export const MAX_REPEAT = 100;

type Pred = (c: number) => boolean;
type Assertion = 'bol' | 'eol' | 'wb' | 'nwb';

type Node =
  | { t: 'pred'; f: Pred }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'assert'; a: Assertion };

type State =
  { k: 'pred'; f: Pred; out: number } | { k: 'split'; outs: number[] } | { k: 'assert'; a: Assertion; out: number } | { k: 'match' };

class Nfa {
  readonly states: State[] = [{ k: 'match' }];
  start = 0;

  constructor(private readonly what: string) {}

  private push(s: State): number {
    if (this.states.length >= MAX_STATES) throw badRequest(`${this.what}: pattern too complex`);
    this.states.push(s);
    return this.states.length - 1;
  }

  /** Compiles `n` so that it continues at state `next`; returns its start state. */
  compile(n: Node, next: number): number {
    switch (n.t) {
      case 'pred':
        return this.push({ k: 'pred', f: n.f, out: next });
      case 'assert':
        return this.push({ k: 'assert', a: n.a, out: next });
      case 'seq': {
        let cur = next;
        for (let i = n.items.length - 1; i >= 0; i--) cur = this.compile(n.items[i]!, cur);
        return cur;
      }
      case 'alt': {
        const s = this.push({ k: 'split', outs: [] });
        (this.states[s] as { outs: number[] }).outs = n.alts.map((a) => this.compile(a, next));
        return s;
      }
      case 'rep': {
        let cur = next;
        if (n.max === Infinity) {
          const loop = this.push({ k: 'split', outs: [] });
          (this.states[loop] as { outs: number[] }).outs = [this.compile(n.node, loop), next];
          cur = loop;
        } else {
          for (let i = n.min; i < n.max; i++) {
            const opt = this.push({ k: 'split', outs: [] });
            (this.states[opt] as { outs: number[] }).outs = [this.compile(n.node, cur), next];
            cur = opt;
          }
        }
        for (let i = 0; i < n.min; i++) cur = this.compile(n.node, cur);
        return cur;
      }
    }
  }

  /**
   * Simulates the NFA on `s`. `search`: a match may start anywhere (RegExp.test); else it starts
   * at 0. Either way the pattern's own assertions decide where it must end.
   */
  run(s: string, search: boolean): boolean {
    const states = this.states;
    const mark = new Int32Array(states.length).fill(-1);
    let cur: number[] = [];
    let nxt: number[] = [];
    const stack: number[] = [];
    let gen = 0;
    const isWord = (p: number) => p >= 0 && p < s.length && isWordChar(s.charCodeAt(p));
    /** Adds `i` and its ε-closure at position `pos` to `list`; true when the match state is reached. */
    const add = (list: number[], i: number, pos: number): boolean => {
      stack.push(i);
      while (stack.length) {
        const j = stack.pop()!;
        if (mark[j] === gen) continue;
        mark[j] = gen;
        const st = states[j]!;
        switch (st.k) {
          case 'match':
            stack.length = 0;
            return true;
          case 'pred':
            list.push(j);
            break;
          case 'split':
            for (let o = st.outs.length - 1; o >= 0; o--) stack.push(st.outs[o]!);
            break;
          case 'assert': {
            const ok =
              st.a === 'bol' ? pos === 0 : st.a === 'eol' ? pos === s.length : (isWord(pos - 1) !== isWord(pos)) === (st.a === 'wb');
            if (ok) stack.push(st.out);
            break;
          }
        }
      }
      return false;
    };
    if (add(cur, this.start, 0)) return true;
    for (let pos = 0; pos < s.length; pos++) {
      if (!search && cur.length === 0) return false;
      gen++;
      const c = s.charCodeAt(pos);
      nxt.length = 0;
      for (const j of cur) {
        const st = states[j] as { f: Pred; out: number };
        if (st.f(c) && add(nxt, st.out, pos + 1)) return true;
      }
      if (search && add(nxt, this.start, pos + 1)) return true;
      [cur, nxt] = [nxt, cur];
    }
    return false;
  }
}

const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;
const SPACES = new Set([9, 10, 11, 12, 13, 32, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]);
const isSpace = (c: number) => SPACES.has(c) || (c >= 0x2000 && c <= 0x200a);
const anyChar: Pred = () => true;
const notLineEnd: Pred = (c) => c !== 10 && c !== 13 && c !== 0x2028 && c !== 0x2029;
const lit = (code: number): Node => ({ t: 'pred', f: (c) => c === code });

/**
 * A glob → a full-string matcher: `*` any run (collapsed: `**` is `*`), `?` one character,
 * `{a,b}` alternatives (nestable; an unclosed `{` closes at the end, a `}` or `,` outside braces
 * is literal). Everything else is literal.
 */
export function compileGlob(pattern: string): (s: string) => boolean {
  if (pattern.length > MAX_GLOB_LENGTH)
    throw badRequest(`glob pattern too long: ${pattern.length} characters (at most ${MAX_GLOB_LENGTH})`);
  // A stack of open groups; each group is a list of alternatives, each a sequence.
  const stack: Node[][][] = [[[]]];
  const top = () => stack[stack.length - 1]!;
  const seq = () => {
    const g = top();
    return g[g.length - 1]!;
  };
  const closeGroup = () => {
    const g = stack.pop()!;
    seq().push({ t: 'alt', alts: g.map((items) => ({ t: 'seq', items })) });
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    const s = seq();
    if (ch === '*') {
      const last = s[s.length - 1];
      if (!(last && last.t === 'rep')) s.push({ t: 'rep', node: { t: 'pred', f: anyChar }, min: 0, max: Infinity });
    } else if (ch === '?') s.push({ t: 'pred', f: anyChar });
    else if (ch === '{') stack.push([[]]);
    else if (ch === '}' && stack.length > 1) closeGroup();
    else if (ch === ',' && stack.length > 1) top().push([]);
    else s.push(lit(pattern.charCodeAt(i)));
  }
  while (stack.length > 1) closeGroup();
  const nfa = new Nfa('glob');
  nfa.start = nfa.compile({ t: 'seq', items: [...stack[0]![0]!, { t: 'assert', a: 'eol' }] }, 0);
  return (s) => nfa.run(s, false);
}

/**
 * A JavaScript regular expression (no flags) → a RegExp.test-like matcher that runs in linear
 * time. 400 when it is too long, invalid, or uses backreferences or lookarounds.
 */
export function compileRegex(source: string, what = 'regular expression'): (s: string) => boolean {
  if (source.length > MAX_REGEX_LENGTH) throw badRequest(`${what}: too long (${source.length} characters, at most ${MAX_REGEX_LENGTH})`);
  try {
    new RegExp(source);
  } catch {
    throw badRequest(`${what}: invalid regular expression`);
  }
  const node = new RegexParser(source, what).parse();
  const nfa = new Nfa(what);
  nfa.start = nfa.compile(node, 0);
  return (s) => nfa.run(s, true);
}

class RegexParser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly what: string,
  ) {}

  private fail(why: string): never {
    throw badRequest(`${this.what}: ${why}`);
  }

  parse(): Node {
    const n = this.alt();
    if (this.i < this.src.length) this.fail('unbalanced parenthesis');
    return n;
  }

  private alt(): Node {
    const alts = [this.seq()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.seq());
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  private seq(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return { t: 'seq', items };
  }

  private quantified(atom: Node): Node {
    let n = atom;
    for (;;) {
      const ch = this.src[this.i];
      let min: number;
      let max: number;
      if (ch === '*') {
        min = 0;
        max = Infinity;
        this.i++;
      } else if (ch === '+') {
        min = 1;
        max = Infinity;
        this.i++;
      } else if (ch === '?') {
        min = 0;
        max = 1;
        this.i++;
      } else if (ch === '{') {
        const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.src.slice(this.i));
        if (!m) return n; // a literal '{' (annex B), read by atom()
        min = Number(m[1]);
        max = m[2] ? (m[3] ? Number(m[3]) : Infinity) : min;
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`repetition count above ${MAX_REPEAT}`);
        this.i += m[0].length;
      } else return n;
      if (this.src[this.i] === '?') this.i++; // lazy: same yes/no answer
      if (n.t === 'assert') continue; // a quantified assertion (annex B): matches as the assertion or empty
      n = { t: 'rep', node: n, min, max };
    }
  }

  private atom(): Node {
    const src = this.src;
    const ch = src[this.i]!;
    this.i++;
    switch (ch) {
      case '^':
        return { t: 'assert', a: 'bol' };
      case '$':
        return { t: 'assert', a: 'eol' };
      case '.':
        return { t: 'pred', f: notLineEnd };
      case '[':
        return this.cls();
      case '\\':
        return this.escape();
      case '(': {
        if (src[this.i] === '?') {
          if (src.startsWith('?:', this.i)) this.i += 2;
          else if (src.startsWith('?<', this.i) && src[this.i + 2] !== '=' && src[this.i + 2] !== '!') {
            const end = src.indexOf('>', this.i);
            if (end < 0) this.fail('invalid group name');
            this.i = end + 1;
          } else this.fail('lookarounds are not supported');
        }
        const inner = this.alt();
        if (src[this.i] !== ')') this.fail('unbalanced parenthesis');
        this.i++;
        return inner;
      }
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat');
      default:
        return lit(src.charCodeAt(this.i - 1));
    }
  }

  /** After a backslash, outside a class. */
  private escape(): Node {
    const c = this.src[this.i];
    if (c === 'b' || c === 'B') {
      this.i++;
      return { t: 'assert', a: c === 'b' ? 'wb' : 'nwb' };
    }
    if (c !== undefined && /[1-9]/.test(c)) this.fail('backreferences are not supported');
    if (c === 'k' && this.src[this.i + 1] === '<') this.fail('backreferences are not supported');
    return { t: 'pred', f: this.escapePred(false) };
  }

  /** A class escape (\d \w \s and their negations) or a character escape → a predicate. */
  private escapePred(inClass: boolean): Pred {
    const src = this.src;
    const c = src[this.i];
    if (c === undefined) this.fail('\\ at end of pattern');
    this.i++;
    switch (c) {
      case 'd':
        return isDigit;
      case 'D':
        return (x) => !isDigit(x);
      case 'w':
        return isWordChar;
      case 'W':
        return (x) => !isWordChar(x);
      case 's':
        return isSpace;
      case 'S':
        return (x) => !isSpace(x);
      default: {
        const code = this.escapeCode(c, inClass);
        return (x) => x === code;
      }
    }
  }

  /** The code unit a character escape stands for (`c` already consumed). */
  private escapeCode(c: string, inClass: boolean): number {
    const src = this.src;
    switch (c) {
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 't':
        return 9;
      case 'v':
        return 11;
      case 'f':
        return 12;
      case '0':
        return 0;
      case 'b':
        return inClass ? 8 : 98;
      case 'c': {
        const l = src[this.i];
        if (l && /[A-Za-z]/.test(l)) {
          this.i++;
          return l.charCodeAt(0) % 32;
        }
        this.i--;
        return 92; // `\c` not followed by a letter: a literal backslash
      }
      case 'x': {
        const m = /^[0-9a-fA-F]{2}/.exec(src.slice(this.i));
        if (m) {
          this.i += 2;
          return parseInt(m[0], 16);
        }
        return 120;
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(src.slice(this.i));
        if (m) {
          this.i += 4;
          return parseInt(m[0], 16);
        }
        return 117;
      }
      default:
        if (/[1-9]/.test(c) && inClass) return this.octal(c);
        return c.charCodeAt(0);
    }
  }

  /** Annex B legacy octal inside a class (`[\1]`). */
  private octal(first: string): number {
    let v = Number(first);
    if (first > '7') return first.charCodeAt(0);
    while (v < 32 && /[0-7]/.test(this.src[this.i] ?? '')) v = v * 8 + Number(this.src[this.i++]);
    return v;
  }

  private cls(): Node {
    const src = this.src;
    let negate = false;
    if (src[this.i] === '^') {
      negate = true;
      this.i++;
    }
    const preds: Pred[] = [];
    const ranges: Array<[number, number]> = [];
    /** One class atom: a code unit, or a predicate for \d \w \s. */
    const classAtom = (): number | Pred => {
      const ch = src[this.i]!;
      this.i++;
      if (ch !== '\\') return ch.charCodeAt(0);
      const e = src[this.i];
      if (e !== undefined && 'dDwWsS'.includes(e)) return this.escapePred(true);
      if (e === undefined) this.fail('\\ at end of pattern');
      this.i++;
      return this.escapeCode(e, true);
    };
    while (src[this.i] !== ']') {
      if (this.i >= src.length) this.fail('unterminated character class');
      const a = classAtom();
      if (src[this.i] === '-' && src[this.i + 1] !== ']' && this.i + 1 < src.length) {
        this.i++;
        const b = classAtom();
        if (typeof a === 'number' && typeof b === 'number') {
          ranges.push([a, b]);
          continue;
        }
        // `[\d-z]` (annex B): the class, '-' and the other end
        for (const x of [a, 45, b]) {
          if (typeof x === 'number') ranges.push([x, x]);
          else preds.push(x);
        }
        continue;
      }
      if (typeof a === 'number') ranges.push([a, a]);
      else preds.push(a);
    }
    this.i++;
    const inClass = (c: number) => ranges.some(([lo, hi]) => c >= lo && c <= hi) || preds.some((p) => p(c));
    return { t: 'pred', f: negate ? (c) => !inClass(c) : inClass };
  }
}
