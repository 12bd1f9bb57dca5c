// Contract: Go regexps with Go's replacement semantics, so that rules written for the Go daemon
// behave the same here (docs/architecture.md §3).
//
// Matching is re2js, a port of RE2, the engine of Go's regexp package: the same syntax, the same
// leftmost-first results and submatches, and time linear in the name, whatever the rule. Container
// names are chosen by whoever may `docker run --name`, so no backtracking engine may see a rule.
//
// What is ours: Go's Regexp.ReplaceAllString loop and its Regexp.Expand templates (re2js's own
// replaceAll follows Java's rules), and group names used twice, which Go allows and re2js refuses
// (see compileGoRegexp). The cases in test/fixtures/go-regexp-cases.json were recorded from Go
// itself by scripts/go-regexp-cases/main.go and are all checked against this module.
//
// Positions are UTF-16 indices into the JavaScript string (re2js reports them so); Go steps over
// a whole code point after an empty match, and so does goReplaceAll.

import { RE2JS, RE2JSException, RE2JSSyntaxException, type Matcher } from 're2js';

export class GoRegexpError extends Error {
  override readonly name = 'GoRegexpError';
  readonly code = 'ERR_GO_REGEXP';
  readonly pattern: string;

  constructor(pattern: string, problem: string, options?: ErrorOptions) {
    super(problem, options);
    this.pattern = pattern;
  }
}

/** A compiled Go regexp. Immutable; safe to share. */
export interface GoRegexp {
  readonly source: string;
  readonly program: RE2JS;
  /** Go's SubexpNames: index → name, '' for group 0 and unnamed groups; a name may repeat. */
  readonly names: readonly string[];
}

/**
 * Go's regexp.Compile. Throws GoRegexpError with the problem in Go's error text (re2js keeps it,
 * but for lookbehind, which it calls an invalid named capture) and, for what RE2 never supports, a
 * hint.
 */
export function compileGoRegexp(source: string): GoRegexp {
  try {
    const program = RE2JS.compile(source);
    const names = new Array<string>(program.groupCount() + 1).fill('');
    for (const [name, index] of Object.entries(program.namedGroups())) names[index] = name;
    return { source, program, names };
  } catch (err) {
    if (!isDuplicateName(err)) throw goRegexpError(source, err);
  }
  // Go allows a name twice, re2js does not: compile without the names and keep them ourselves.
  const groups = captureGroups(source);
  const stripped = groups.reduceRight(
    (s, g) => (g.name === '' ? s : `${s.slice(0, g.start)}(${s.slice(g.end)}`),
    source,
  );
  let program: RE2JS;
  try {
    program = RE2JS.compile(stripped);
  } catch (err) {
    throw goRegexpError(source, err);
  }
  if (program.groupCount() !== groups.length) {
    throw new GoRegexpError(
      source,
      `cannot tell which group holds which name (found ${groups.length} groups, RE2 ${program.groupCount()})`,
    );
  }
  return { source, program, names: ['', ...groups.map((g) => g.name)] };
}

/** Go's Regexp.MatchString. */
export function goMatch(re: GoRegexp, src: string): boolean {
  return re.program.test(src);
}

/** Go's Regexp.ReplaceAllString(src, template), template as in Regexp.Expand. */
export function goReplaceAll(re: GoRegexp, src: string, template: string): string {
  const m = re.program.matcher(src);
  const expands = template.includes('$');
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  // A port of regexp.(*Regexp).replaceAll in Go's src/regexp/regexp.go.
  while (searchPos <= src.length) {
    if (!m.find(searchPos)) break;
    const start = m.start(0);
    const end = m.end(0);
    out += src.slice(lastMatchEnd, start);
    // No replacement for an empty match right after the previous match.
    if (end > lastMatchEnd || start === 0) {
      out += expands ? expand(template, (group) => groupText(re, src, m, group)) : template;
    }
    lastMatchEnd = end;
    // Advance past this match; always advance at least one character (a code point).
    const width = searchPos >= src.length ? 0 : (src.codePointAt(searchPos) ?? 0) > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}

// Go's Expand: a number is that group; a name is the first group of that name that took part in
// the match; anything else, or a group that did not take part, is ''.
function groupText(re: GoRegexp, src: string, m: Matcher, ref: number | string): string {
  const index = typeof ref === 'number' ? ref : re.names.findIndex((n, i) => n === ref && m.start(i) >= 0);
  if (index < 0 || index >= re.names.length) return '';
  const start = m.start(index);
  return start < 0 ? '' : src.slice(start, m.end(index));
}

// Go's Regexp.Expand: $$ is $; $name and ${name}, a name being the longest run of letters, digits
// and `_`; a name of at most 9 digits without a leading 0 is a group number; a $ not followed by a
// name (or an unclosed ${) is kept as it is. A port of expand and extract in src/regexp/regexp.go.
function expand(template: string, group: (ref: number | string) => string): string {
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
    out += group(/^(0|[1-9][0-9]{0,8})$/.test(ref.name) ? Number(ref.name) : ref.name);
  }
  return out + template.slice(i);
}

const NAME_CHARS = /^[\p{L}\p{Nd}_]*/u; // Go: unicode.IsLetter, unicode.IsDigit, '_'

function extractName(t: string, pos: number): { name: string; rest: number } | undefined {
  const brace = t[pos] === '{';
  const start = brace ? pos + 1 : pos;
  const name = NAME_CHARS.exec(t.slice(start))?.[0] ?? '';
  const end = start + name.length;
  if (name === '') return undefined;
  if (!brace) return { name, rest: end };
  return t[end] === '}' ? { name, rest: end + 1 } : undefined;
}

function isDuplicateName(err: unknown): boolean {
  return err instanceof RE2JSSyntaxException && err.error === 'duplicate capture group name';
}

// Things other engines take that RE2 never will, keyed by the start of the text re2js points at.
const HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\(\?[=!]/, 'RE2 (Go regexps) has no lookahead'],
  [/^\(\?<[=!]/, 'RE2 (Go regexps) has no lookbehind'],
  [/^\\[1-9]/, 'RE2 (Go regexps) has no backreferences'],
  [/^(\\k|\(\?P$)/, 'RE2 (Go regexps) has no named backreferences or recursion; a named group is (?P<name>re)'],
  [/^\(\?>/, 'RE2 (Go regexps) has no atomic groups'],
  [/^\(\?'/, "a named group is (?P<name>re), not (?'name're)"],
  [/[*+?}]\+$/, 'RE2 (Go regexps) has no possessive quantifiers'],
  [/^\\Z$/, 'use \\z for the end of the text'],
];

function goRegexpError(source: string, err: unknown): Error {
  if (!(err instanceof RE2JSException)) return err instanceof Error ? err : new Error(String(err));
  let problem = err.message.replace(/^error parsing regexp: /, '');
  if (err instanceof RE2JSSyntaxException) {
    const hint = HINTS.find(([at]) => at.test(err.input ?? ''))?.[1];
    if (hint !== undefined) problem += ` (${hint})`;
  }
  return new GoRegexpError(source, problem, { cause: err });
}

interface CaptureGroup {
  /** Where the group's opening text starts and ends in the source. */
  readonly start: number;
  readonly end: number;
  /** '' for an unnamed group. */
  readonly name: string;
}

/**
 * The capturing groups of a pattern re2js has parsed but for a repeated name, in order, skipping
 * what Go's parser (src/regexp/syntax/parse.go) reads as literal text: escapes, \Q…\E, character
 * classes with their `]` first and [:name:] parts. Only a valid name is reported, so a group with
 * an invalid one stays in the source and is still refused.
 */
function captureGroups(src: string): CaptureGroup[] {
  const namedGroup = /\(\?P?<([A-Za-z0-9_]+)>/y;
  const groups: CaptureGroup[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      if (src[i + 1] === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        i = end < 0 ? src.length : end + 2;
      } else i += 2;
    } else if (c === '[') {
      i = classEnd(src, i);
    } else if (c === '(') {
      namedGroup.lastIndex = i;
      const named = namedGroup.exec(src);
      if (named !== null) groups.push({ start: i, end: i + named[0].length, name: named[1] ?? '' });
      else if (src[i + 1] !== '?') groups.push({ start: i, end: i + 1, name: '' });
      i++;
    } else i++;
  }
  return groups;
}

// Go's parseClass: the index after the `]` that closes the class opened at src[open] === '['.
function classEnd(src: string, open: number): number {
  let i = open + 1;
  if (src[i] === '^') i++;
  let first = true;
  while (i < src.length && (src[i] !== ']' || first)) {
    first = false;
    const named = src.startsWith('[:', i) ? src.indexOf(':]', i + 2) : -1;
    if (named >= 0) i = named + 2;
    else i += src[i] === '\\' ? 2 : 1;
  }
  return i + 1;
}
