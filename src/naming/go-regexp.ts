// Contract: Go (RE2) regexps and Go's replacement semantics on top of JS RegExp, so that rules
// written for the Go daemon behave the same here (docs/architecture.md §3).
//
// compileGoRegexp(source) parses RE2 syntax and emits an equivalent JS pattern with flags `g`, `u`
// and, for a leading (?i), `i`. The `u` flag is always set because Go matches code points (`.`
// takes a whole emoji, and so does the one-character step after an empty match); every construct is
// re-emitted in a form valid under `u`, so user escapes like `\-` or `[\w-]` keep working. Go and
// JS differ on `.`, `\s`, `^`/`$` under (?m) and [[:^class:]] under (?i); those are emitted as
// explicit sets or lookarounds, so JS never gets its own `m` or `s` flag and (?m), (?s), (?U) work
// anywhere. Rejected with GoRegexpError: what RE2 rejects (backreferences, lookaround, atomic and
// possessive forms, nested repetition, counts over 1000, bad escapes), and what this port cannot
// express: (?i) anywhere but the very start. Group names Go allows and JS does not (a leading
// digit, a name used twice) are renamed in match.groups, see jsGroupName. Known gaps, obscure:
// under (?i), \b and \P{..} follow JS's case folding; JS resets a capture inside a repeated group
// on each iteration, where Go keeps the last value it took.
//
// goReplaceAll is Go's Regexp.ReplaceAllString with Regexp.Expand templates; goMatch is MatchString.
// Both leave the RegExp's lastIndex at 0.

export class GoRegexpError extends Error {
  override readonly name = 'GoRegexpError';
  readonly code = 'ERR_GO_REGEXP';
  readonly pattern: string;

  constructor(pattern: string, problem: string, options?: ErrorOptions) {
    super(problem, options);
    this.pattern = pattern;
  }
}

export function compileGoRegexp(source: string): RegExp {
  const { pattern, flags } = new Translator(source).translate();
  try {
    return new RegExp(pattern, flags);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new GoRegexpError(source, `the translated pattern was rejected: ${why}`, { cause: err });
  }
}

export function goMatch(re: RegExp, src: string): boolean {
  re.lastIndex = 0;
  try {
    return re.test(src);
  } finally {
    re.lastIndex = 0;
  }
}

/** Go's Regexp.ReplaceAllString(src, template). */
export function goReplaceAll(re: RegExp, src: string, template: string): string {
  const rx = re.global && !re.sticky ? re : new RegExp(re.source, `${re.flags.replace(/[gy]/g, '')}g`);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  try {
    // A port of regexp.(*Regexp).replaceAll in Go's src/regexp/regexp.go.
    while (searchPos <= src.length) {
      rx.lastIndex = searchPos;
      const m = rx.exec(src);
      if (m === null) break;
      const start = m.index;
      const end = start + m[0].length;
      out += src.slice(lastMatchEnd, start);
      // No replacement for an empty match right after the previous match.
      if (end > lastMatchEnd || start === 0) out += expand(template, m);
      lastMatchEnd = end;
      // Advance past this match; always advance at least one character (a code point).
      const cp = src.codePointAt(searchPos);
      const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
      if (searchPos + width > end) searchPos += width;
      else if (searchPos + 1 > end) searchPos++;
      else searchPos = end;
    }
  } finally {
    rx.lastIndex = 0;
  }
  return out + src.slice(lastMatchEnd);
}

// Go's Regexp.Expand: $$, $name, ${name}; a name is the longest run of letters, digits and `_`; an
// all-digit name is a group number; missing or unmatched groups give ""; a malformed $ is literal.
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  let i = 0;
  for (;;) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const ref = extractName(template, i);
    if (ref === undefined) {
      out += '$';
      continue;
    }
    i = ref.rest;
    out += groupValue(m, ref.name) ?? '';
  }
  return out + template.slice(i);
}

const NAME_CHAR = /^[\p{L}\p{Nd}_]$/u; // Go: unicode.IsLetter, unicode.IsDigit, '_'

function extractName(t: string, pos: number): { name: string; rest: number } | undefined {
  const brace = t[pos] === '{';
  const start = brace ? pos + 1 : pos;
  let end = start;
  while (end < t.length) {
    const ch = String.fromCodePoint(t.codePointAt(end) ?? 0);
    if (!NAME_CHAR.test(ch)) break;
    end += ch.length;
  }
  if (end === start) return undefined;
  const name = t.slice(start, end);
  if (!brace) return { name, rest: end };
  return t[end] === '}' ? { name, rest: end + 1 } : undefined;
}

function groupValue(m: RegExpExecArray, name: string): string | undefined {
  // Go: digits only, no leading zero (except "0"), at most 9 digits → a group number.
  if (/^(0|[1-9][0-9]{0,8})$/.test(name)) return m[Number(name)];
  // Go: the first group of that name that took part in the match. Keys are in group order.
  for (const [key, value] of Object.entries(m.groups ?? {})) {
    if (value !== undefined && goGroupName(key) === name) return value;
  }
  return undefined;
}

// Go group names are [A-Za-z0-9_]+, may start with a digit and may repeat; JS names may do
// neither. A leading `$` marks a digit start and a `$n` suffix the n-th use of a name (Go names
// never contain `$`), so plain names stay unchanged in match.groups.
function jsGroupName(goName: string, seen: number): string {
  return `${/^[0-9]/.test(goName) ? '$' : ''}${goName}${seen > 1 ? `$${seen}` : ''}`;
}

function goGroupName(jsName: string): string {
  return jsName.replace(/^\$/, '').replace(/\$[0-9]+$/, '');
}

// ---------------------------------------------------------------------------------------------
// Translation. A port of the parts of Go's src/regexp/syntax/parse.go that decide what is valid.

type Range = readonly [number, number];
interface Flags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
  readonly U: boolean;
}
interface Frame {
  readonly outStart: number;
  readonly saved: Flags;
  maxWeight: number; // largest product of counted repeats inside, for Go's limit of 1000
}
interface Atom {
  readonly start: number;
  weight: number;
  assertion: boolean;
  quantified: boolean;
}

const MAX_REPEAT = 1000;
const MAX_RUNE = 0x10ffff;
const SPACE: Range[] = [[9, 10], [12, 13], [32, 32]]; // Go's \s is [\t\n\f\r ]
const POSIX: Readonly<Record<string, Range[]>> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0, 0x7f]],
  blank: [[9, 9], [32, 32]],
  cntrl: [[0, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[9, 13], [32, 32]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};
const SYNTAX_CHARS = '^$\\.*+?()[]{}|/';
// Escapes that map to one JS atom: [JS source, is it an assertion].
const SIMPLE_ESCAPES: Readonly<Record<string, readonly [string, boolean]>> = {
  A: ['^', true], // JS never gets the m flag, so ^ and $ are text boundaries
  z: ['$', true],
  b: ['\\b', true],
  B: ['\\B', true],
  d: ['\\d', false],
  D: ['\\D', false],
  w: ['\\w', false],
  W: ['\\W', false],
  s: ['[\\t\\n\\f\\r ]', false],
  S: ['[^\\t\\n\\f\\r ]', false],
};

class Translator {
  private i = 0;
  private readonly out: string[] = [];
  private flags: Flags = { i: false, m: false, s: false, U: false };
  private foldCase = false; // the JS `i` flag; only a leading (?i) sets it
  private readonly frames: Frame[] = [{ outStart: 0, saved: this.flags, maxWeight: 1 }];
  private atom: Atom | undefined; // what a following quantifier would apply to
  private lastWasRepeat = false;
  private readonly names = new Map<string, number>(); // Go group name → times seen

  constructor(private readonly src: string) {}

  translate(): { pattern: string; flags: string } {
    const src = this.src;
    while (this.i < src.length) {
      const c = src[this.i];
      const afterRepeat = this.lastWasRepeat;
      this.lastWasRepeat = false;
      switch (c) {
        case '(':
          this.openGroup();
          break;
        case ')':
          this.closeGroup();
          break;
        case '|':
          this.commit();
          this.atom = undefined;
          this.out.push('|');
          this.i++;
          break;
        case '^':
          this.i++;
          this.push(this.flags.m ? '(?<![^\\n])' : '^', true);
          break;
        case '$':
          this.i++;
          this.push(this.flags.m ? '(?![^\\n])' : '$', true);
          break;
        case '.':
          this.i++;
          this.push(this.flags.s ? '[\\s\\S]' : '[^\\n]');
          break;
        case '[':
          this.push(this.parseClass());
          break;
        case '*':
        case '+':
        case '?':
          this.i++;
          this.repeat(c, afterRepeat, undefined);
          break;
        case '{': {
          const r = this.parseRepeatCount();
          if (r === undefined) {
            this.i++;
            this.push('\\{');
          } else {
            this.repeat(src.slice(r.start, this.i), afterRepeat, r);
          }
          break;
        }
        case '\\':
          this.escape();
          break;
        default:
          this.push(literal(this.nextCodePoint()));
      }
    }
    this.commit();
    if (this.frames.length > 1) this.fail('missing closing )');
    return { pattern: this.out.join(''), flags: this.foldCase ? 'giu' : 'gu' };
  }

  private fail(problem: string): never {
    throw new GoRegexpError(this.src, problem);
  }

  private nextCodePoint(): number {
    const cp = this.src.codePointAt(this.i) ?? 0;
    if (cp >= 0xd800 && cp <= 0xdfff) this.fail('invalid UTF-8 (a lone surrogate)');
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private commit(): void {
    const frame = this.frames[this.frames.length - 1];
    if (this.atom !== undefined && frame !== undefined) {
      frame.maxWeight = Math.max(frame.maxWeight, this.atom.weight);
    }
  }

  private push(text: string, assertion = false): void {
    this.commit();
    this.atom = { start: this.out.length, weight: 1, assertion, quantified: false };
    this.out.push(text);
  }

  private openGroup(): void {
    const src = this.src;
    const start = this.i;
    if (src[start + 1] !== '?') {
      this.i++;
      this.beginGroup('(');
      return;
    }
    const rest = src.slice(start + 2);
    const named = /^P?<([^>]*)>/.exec(rest);
    const unsupported: Array<[RegExp, string]> = [
      [/^[=!]/, 'lookahead (?= or (?! is not supported by Go regexps'],
      [/^<[=!]/, 'lookbehind (?<= or (?<! is not supported by Go regexps'],
      [/^>/, 'atomic groups (?>…) are not supported by Go regexps'],
      [/^P[=>]/, 'named backreferences and recursion are not supported by Go regexps'],
      [/^#/, 'comments (?#…) are not supported by Go regexps'],
      [/^'/, "(?'name'…) is not supported by Go regexps; use (?P<name>…)"],
    ];
    for (const [prefix, problem] of unsupported) if (prefix.test(rest)) this.fail(problem);
    if (named !== null || rest.startsWith('P<') || rest.startsWith('<')) {
      const name = named?.[1];
      if (name === undefined || !/^[A-Za-z0-9_]+$/.test(name)) {
        const end = named === null ? undefined : start + 2 + named[0].length;
        this.fail(`invalid named capture ${src.slice(start, end)}`);
      }
      const seen = (this.names.get(name) ?? 0) + 1;
      this.names.set(name, seen);
      this.i = start + 2 + (named?.[0].length ?? 0);
      this.beginGroup(`(?<${jsGroupName(name, seen)}>`);
      return;
    }
    this.parseFlags(start);
  }

  private beginGroup(text: string): void {
    this.commit();
    this.frames.push({ outStart: this.out.length, saved: this.flags, maxWeight: 1 });
    this.atom = undefined;
    this.out.push(text);
  }

  private closeGroup(): void {
    if (this.frames.length === 1) this.fail('unexpected )');
    this.commit();
    const frame = this.frames.pop() as Frame;
    this.out.push(')');
    this.i++;
    this.flags = frame.saved;
    this.atom = { start: frame.outStart, weight: frame.maxWeight, assertion: false, quantified: false };
  }

  // (?flags) or (?flags:re), flags from i, m, s, U, optionally negated after '-'.
  private parseFlags(start: number): void {
    const src = this.src;
    const next = { ...this.flags };
    let negate = false;
    let sawFlag = false;
    let i = start + 2;
    while (i < src.length) {
      const c = src[i++] ?? '';
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        next[c] = !negate;
        sawFlag = true;
      } else if (c === '-' && !negate) {
        negate = true;
        sawFlag = false;
      } else if ((c === ':' || c === ')') && !(negate && !sawFlag)) {
        this.i = i;
        if (next.i !== this.flags.i) {
          const atStart = c === ')' && this.out.length === 0 && this.frames.length === 1;
          if (!atStart) {
            this.fail('(?i) is only supported at the very start of the pattern, where it covers all of it');
          }
          this.foldCase = next.i;
        }
        if (c === ':') this.beginGroup('(?:');
        this.flags = next;
        return;
      } else {
        if (/^[a-zA-Z]$/.test(c)) {
          this.fail(`unsupported flag "${c}" in ${src.slice(start, i)}; Go has i, m, s and U`);
        }
        break;
      }
    }
    this.fail(`invalid or unsupported Perl syntax ${src.slice(start, i)}`);
  }

  // Go's parseRepeat: {n}, {n,}, {n,m} with no leading zeros; anything else is a literal '{'.
  private parseRepeatCount(): { start: number; min: number; max: number } | undefined {
    const m = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(this.src.slice(this.i));
    if (m === null) return undefined;
    const start = this.i;
    this.i += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
      this.fail(`invalid repeat count ${m[0]}`);
    }
    return { start, min, max };
  }

  private repeat(op: string, afterRepeat: boolean, count: { min: number; max: number } | undefined): void {
    let lazy = false;
    if (this.src[this.i] === '?') {
      lazy = true;
      this.i++;
    }
    if (afterRepeat) {
      if (op === '+') this.fail('possessive quantifiers like a*+ are not supported by Go regexps');
      this.fail(`nested repetition operator ${op} is not allowed; wrap the inner repetition in (?:…)`);
    }
    const atom = this.atom;
    if (atom === undefined) this.fail(`missing argument to repetition operator ${op}`);
    if (count !== undefined) {
      const n = count.max === -1 ? count.min : count.max;
      if (n === 0) {
        atom.weight = 1;
      } else {
        if ((count.min >= 2 || count.max >= 2) && n * atom.weight > MAX_REPEAT) {
          this.fail(`invalid repeat count ${op}: nested counts multiply past ${MAX_REPEAT}`);
        }
        atom.weight *= n;
      }
    }
    if (atom.assertion || atom.quantified) {
      this.out.splice(atom.start, 0, '(?:');
      this.out.push(')');
    }
    atom.quantified = true;
    this.out.push(op + (lazy !== this.flags.U ? '?' : ''));
    this.lastWasRepeat = true;
  }

  private escape(): void {
    const src = this.src;
    const c = src[this.i + 1];
    const hit = c === undefined ? undefined : SIMPLE_ESCAPES[c];
    if (hit !== undefined) {
      this.i += 2;
      this.push(hit[0], hit[1]);
      return;
    }
    if (c === 'C') this.fail('\\C (any byte) is not supported by Go regexps');
    if (c === 'Z') this.fail('\\Z is not supported by Go regexps; use \\z for the end of the text');
    if (c === 'Q') {
      const end = src.indexOf('\\E', this.i + 2);
      const stop = end < 0 ? src.length : end;
      this.i += 2;
      while (this.i < stop) this.push(literal(this.nextCodePoint()));
      this.i = end < 0 ? src.length : end + 2;
      return;
    }
    if (c === 'p' || c === 'P') {
      this.push(this.unicodeClass());
      return;
    }
    this.push(literal(this.parseEscape(false)));
  }

  // Go's parseEscape: one escaped character, at src[i] === '\\'.
  private parseEscape(inClass: boolean): number {
    const src = this.src;
    const start = this.i;
    this.i++;
    if (this.i >= src.length) this.fail('trailing backslash at end of expression');
    const c = this.nextCodePoint();
    const ch = String.fromCodePoint(c);
    if (c < 0x80 && !/[0-9A-Za-z]/.test(ch)) return c;
    const isOctal = (s: string | undefined): boolean => s !== undefined && s >= '0' && s <= '7';
    if (ch === '0' || (ch >= '1' && ch <= '7' && isOctal(src[this.i]))) {
      let r = c - 0x30;
      for (let k = 1; k < 3 && isOctal(src[this.i]); k++) r = r * 8 + (src.charCodeAt(this.i++) - 0x30);
      return r;
    }
    if (ch >= '1' && ch <= '9' && !inClass) this.fail(`backreference \\${ch} is not supported by Go regexps`);
    if (ch === 'k' && !inClass) this.fail('named backreferences (\\k) are not supported by Go regexps');
    if (ch === 'x') {
      const braced = /^\{([0-9A-Fa-f]+)\}/.exec(src.slice(this.i));
      const two = /^[0-9A-Fa-f]{2}/.exec(src.slice(this.i));
      const digits = braced?.[1] ?? (src[this.i] === '{' ? undefined : two?.[0]);
      const value = digits === undefined ? NaN : parseInt(digits, 16);
      if (value <= MAX_RUNE) {
        this.i += braced?.[0].length ?? 2;
        return value;
      }
    }
    const controls: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    const control = controls[ch];
    if (control !== undefined) return control;
    this.fail(`invalid escape sequence ${src.slice(start, this.i)}`);
  }

  // \pL, \p{Greek}, \PL, \p{^Greek}; at src[i] === '\\'.
  private unicodeClass(): string {
    const src = this.src;
    const start = this.i;
    let negated = src[this.i + 1] === 'P';
    this.i += 2;
    let name: string;
    if (src[this.i] === '{') {
      const end = src.indexOf('}', this.i);
      if (end < 0) this.fail(`invalid character class range ${src.slice(start)}`);
      name = src.slice(this.i + 1, end);
      this.i = end + 1;
    } else {
      name = this.i < src.length ? String.fromCodePoint(this.nextCodePoint()) : '';
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const property = jsUnicodeProperty(name);
    if (property === undefined) this.fail(`unknown Unicode class ${src.slice(start, this.i)}`);
    return `\\${negated ? 'P' : 'p'}{${property}}`;
  }

  // Go's parseClass, at src[i] === '['.
  private parseClass(): string {
    const src = this.src;
    const start = this.i;
    this.i++;
    const negated = src[this.i] === '^';
    if (negated) this.i++;
    const ranges: Range[] = [];
    const escapes: string[] = [];
    const fold = this.flags.i;
    let first = true;
    while (this.i >= src.length || src[this.i] !== ']' || first) {
      first = false;
      if (this.i >= src.length) this.fail(`missing closing ] in ${src.slice(start)}`);
      if (src.startsWith('[:', this.i) && this.i + 2 < src.length) {
        const end = src.indexOf(':]', this.i + 2);
        if (end >= 0) {
          const whole = src.slice(this.i, end + 2);
          const name = src.slice(this.i + 2, end);
          const set = POSIX[name.replace(/^\^/, '')];
          if (set === undefined) this.fail(`invalid character class range ${whole}`);
          ranges.push(...(name.startsWith('^') ? complement(fold ? foldAscii(set) : set) : set));
          this.i = end + 2;
          continue;
        }
      }
      const next = src[this.i + 1];
      if (src[this.i] === '\\' && (next === 'p' || next === 'P')) {
        escapes.push(this.unicodeClass());
        continue;
      }
      if (src[this.i] === '\\' && next !== undefined && 'dDwWsS'.includes(next)) {
        if (next === 's') ranges.push(...SPACE);
        else if (next === 'S') ranges.push(...complement(SPACE));
        else escapes.push(`\\${next}`);
        this.i += 2;
        continue;
      }
      const rangeStart = this.i;
      const lo = this.classChar(start);
      let hi = lo;
      if (this.i + 1 < src.length && src[this.i] === '-' && src[this.i + 1] !== ']') {
        this.i++;
        hi = this.classChar(start);
        if (hi < lo) this.fail(`invalid character class range ${src.slice(rangeStart, this.i)}`);
      }
      ranges.push([lo, hi]);
    }
    this.i++;
    return `[${negated ? '^' : ''}${ranges.map(rangeSource).join('')}${escapes.join('')}]`;
  }

  private classChar(classStart: number): number {
    if (this.i >= this.src.length) this.fail(`missing closing ] in ${this.src.slice(classStart)}`);
    return this.src[this.i] === '\\' ? this.parseEscape(true) : this.nextCodePoint();
  }
}

function literal(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (SYNTAX_CHARS.includes(ch)) return `\\${ch}`;
  return cp >= 0x20 && cp < 0x7f ? ch : `\\u{${cp.toString(16)}}`;
}

function classChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  return /^[0-9A-Za-z]$/.test(ch) ? ch : `\\u{${cp.toString(16)}}`;
}

function rangeSource([lo, hi]: Range): string {
  return lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`;
}

function complement(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let nextLo = 0;
  for (const [lo, hi] of sorted) {
    if (lo > nextLo) out.push([nextLo, lo - 1]);
    nextLo = Math.max(nextLo, hi + 1);
  }
  if (nextLo <= MAX_RUNE) out.push([nextLo, MAX_RUNE]);
  return out;
}

// Adds the case-fold partners of ASCII letters (including ſ U+017F for s and K U+212A for k), as
// Go folds a class before negating it under (?i). Only used on ASCII sets.
function foldAscii(ranges: readonly Range[]): Range[] {
  const out: Range[] = [...ranges];
  const has = (c: number): boolean => ranges.some(([lo, hi]) => lo <= c && c <= hi);
  for (let c = 0x41; c <= 0x5a; c++) {
    if (has(c) || has(c + 32)) out.push([c, c], [c + 32, c + 32]);
  }
  if (has(0x53) || has(0x73)) out.push([0x17f, 0x17f]);
  if (has(0x4b) || has(0x6b)) out.push([0x212a, 0x212a]);
  return out;
}

// Go's Unicode class names (categories, scripts, Any, Assigned, ASCII) as JS property escapes.
function jsUnicodeProperty(name: string): string | undefined {
  if (!/^[A-Za-z_]+$/.test(name)) return undefined;
  const special: Record<string, string> = { any: 'Any', assigned: 'Assigned', ascii: 'ASCII' };
  const canonical = special[name.replace(/_/g, '').toLowerCase()];
  if (canonical !== undefined) return canonical;
  for (const candidate of [`General_Category=${name}`, `Script=${name}`]) {
    try {
      new RegExp(`\\p{${candidate}}`, 'u');
      return candidate;
    } catch {
      // not this kind of name
    }
  }
  return undefined;
}
