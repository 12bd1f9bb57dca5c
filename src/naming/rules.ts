import { compileGoRegexp, goMatch, goReplaceAll, type GoRegexp } from './go-regexp.js';
import { sanitizePath, sanitizeSegment } from './sanitize.js';

/** A compiled `--prefix` / `--rules` rule (docs/architecture.md §3). */
export interface Rule {
  readonly source: string;
  /** Compiled by re2js (RE2, as Go): linear time on any container name. */
  readonly regexp: GoRegexp;
  /** Go template; empty means "keep the name" (the original only rewrote when `into` was set). */
  readonly into: string;
  readonly category: string | undefined;
}

export interface ContainerPath {
  /** Sanitised dotted path, never empty. */
  readonly path: string;
  readonly category: string | undefined;
}

/** Every problem of a rules option, each saying which rule and what is wrong. */
export class RulesError extends Error {
  override readonly name = 'RulesError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.problems = problems;
  }
}

/**
 * Parses the JSON of `--prefix` (one rule object, or an array) or `--rules` (an array).
 * Keys are matched case-insensitively, as Go's encoding/json did for the original's structs.
 * Throws a RulesError naming every bad rule at once (the caller adds the option's name).
 */
export function parseRules(json: string): Rule[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new RulesError([`is not valid JSON (${(err as Error).message})`]);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const rules: Rule[] = [];
  const problems: string[] = [];
  list.forEach((item, i) => {
    try {
      rules.push(parseRule(item, Array.isArray(parsed) ? `rule ${i + 1}` : 'the rule'));
    } catch (err) {
      problems.push((err as Error).message);
    }
  });
  if (problems.length > 0) throw new RulesError(problems);
  return rules;
}

function parseRule(item: unknown, where: string): Rule {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new Error(`${where} must be an object like {"regexp":"(.*)","into":"$1"}`);
  }
  const fields = new Map(Object.entries(item).map(([k, v]) => [k.toLowerCase(), v]));
  const regexp = fields.get('regexp');
  const into = fields.get('into') ?? '';
  const category = fields.get('category') ?? '';
  if (typeof regexp !== 'string' || regexp === '') {
    throw new Error(`${where} needs a non-empty string "regexp"`);
  }
  if (typeof into !== 'string') throw new Error(`${where}: "into" must be a string`);
  if (typeof category !== 'string') throw new Error(`${where}: "category" must be a string`);
  let compiled: GoRegexp;
  try {
    compiled = compileGoRegexp(regexp);
  } catch (err) {
    throw new Error(`${where}: regexp ${JSON.stringify(regexp)} is invalid: ${(err as Error).message}`);
  }
  const cat = sanitizeSegment(category);
  return { source: regexp, regexp: compiled, into, category: cat === '' ? undefined : cat };
}

/**
 * The container's path: its name without the leading `/`, rewritten by the first rule whose
 * regexp matches (Go's ReplaceAllString semantics), then sanitised segment by segment. A name that
 * sanitises to nothing falls back to `fallback` (the short container id).
 */
export function containerPath(rules: readonly Rule[], name: string, fallback: string): ContainerPath {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  let rewritten = bare;
  let category: string | undefined;
  for (const rule of rules) {
    if (goMatch(rule.regexp, bare)) {
      if (rule.into !== '') rewritten = goReplaceAll(rule.regexp, bare, rule.into);
      category = rule.category;
      break;
    }
  }
  const path = sanitizePath(rewritten);
  return { path: path === '' ? sanitizePath(fallback) : path, category };
}
