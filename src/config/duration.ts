// Contract: parseDuration(text) turns a duration option into milliseconds (a float: "10us" → 0.01).
// It first tries Go's time.ParseDuration grammar exactly (the Go daemon's configs keep working with
// the same meaning), then falls back to the `ms` package's forms that carry a unit ("1 minute",
// "1.5 h", "3 days"). Surrounding whitespace is trimmed before either is tried. A bare number other
// than 0 is rejected as ambiguous, as Go rejects it. Results beyond Go's int64 nanoseconds are
// rejected whichever grammar produced them. No sign check: callers decide whether <= 0 is allowed.
import ms from 'ms';

export class DurationError extends Error {
  override readonly name = 'DurationError';
  readonly code = 'ERR_DURATION';
  readonly input: string;

  constructor(input: string, problem: string) {
    super(
      `${JSON.stringify(input)} ${problem}; use Go syntax like 90s, 1m30s, 500ms, 10us, 2h, ` +
        'or a phrase like "1 minute"',
    );
    this.input = input;
  }
}

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // µs, MICRO SIGN
  ['\u03bcs', 1_000n], // μs, GREEK SMALL LETTER MU
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);
const TWO_63 = 1n << 63n;
const MAX_MS = Number(TWO_63) / 1e6;

// Go's parse failures: `invalid` covers every shape error, `range` is int64 overflow.
type GoResult = { ok: true; ns: bigint } | { ok: false; why: 'invalid' | 'range' };

export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '') throw new DurationError(text, 'is empty');
  const go = parseGoDuration(s);
  if (go.ok) return nsToMs(go.ns);
  if (go.why === 'range') throw new DurationError(text, 'is out of range (Go durations stop near 2562047h)');
  if (/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)) throw new DurationError(text, 'has no unit');
  const phrase = parsePhrase(s);
  if (phrase === undefined) throw new DurationError(text, 'is not a duration');
  if (Math.abs(phrase) >= MAX_MS) {
    throw new DurationError(text, 'is out of range (Go durations stop near 2562047h)');
  }
  return phrase;
}

function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

// A port of Go's time.ParseDuration (src/time/format.go): [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ | [-+]?0
function parseGoDuration(s: string): GoResult {
  let i = 0;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    i = 1;
  }
  if (s.slice(i) === '0') return { ok: true, ns: 0n };
  if (i === s.length) return { ok: false, why: 'invalid' };
  let total = 0n;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (!(c === '.' || isDigit(c))) return { ok: false, why: 'invalid' };
    // Integer part, [0-9]*; Go errors once the value passes 1<<63.
    const intStart = i;
    let v = 0n;
    while (i < s.length && isDigit(s[i] ?? '')) {
      if (v > TWO_63 / 10n) return { ok: false, why: 'range' };
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO_63) return { ok: false, why: 'range' };
      i++;
    }
    const pre = i !== intStart;
    // Fraction, (\.[0-9]*)?; Go stops accumulating precision instead of failing.
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[i] === '.') {
      i++;
      const fracStart = i;
      let overflow = false;
      while (i < s.length && isDigit(s[i] ?? '')) {
        if (!overflow) {
          if (f > (TWO_63 - 1n) / 10n) {
            overflow = true;
          } else {
            const y = f * 10n + BigInt(s.charCodeAt(i) - 48);
            if (y > TWO_63) overflow = true;
            else {
              f = y;
              scale *= 10;
            }
          }
        }
        i++;
      }
      post = i !== fracStart;
    }
    if (!pre && !post) return { ok: false, why: 'invalid' };
    // Unit: everything up to the next '.' or digit.
    const unitStart = i;
    while (i < s.length && !(s[i] === '.' || isDigit(s[i] ?? ''))) i++;
    const unit = NS_PER_UNIT.get(s.slice(unitStart, i));
    if (unit === undefined) return { ok: false, why: 'invalid' };
    if (v > TWO_63 / unit) return { ok: false, why: 'range' };
    v *= unit;
    if (f > 0n) {
      // Go does this step in float64 and truncates; do the same for identical results.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO_63) return { ok: false, why: 'range' };
    }
    total += v;
    if (total > TWO_63) return { ok: false, why: 'range' };
  }
  if (neg) return { ok: true, ns: -total };
  if (total > TWO_63 - 1n) return { ok: false, why: 'range' };
  return { ok: true, ns: total };
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

// The `ms` package's grammar, restricted to forms with a unit. Its units are case-insensitive, but
// single-letter units must be lower case here: "1M" reads as a month to many people, not a minute.
const PHRASE = new RegExp(
  '^-?(?:\\d+)?\\.?\\d+ *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m' +
    '|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)$',
  'i',
);

function parsePhrase(s: string): number | undefined {
  const unit = PHRASE.exec(s)?.[1];
  if (unit === undefined || (unit.length === 1 && unit !== unit.toLowerCase())) return undefined;
  const value = ms(s as ms.StringValue);
  if (!Number.isFinite(value)) return undefined;
  return value === 0 ? 0 : value; // no -0 from "-0 minutes"
}
