import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The manual stays reachable: every relative link in README.md, CHANGELOG.md and docs/*.md points
 * at a file that exists and, for a `#anchor` into a Markdown file, at a heading it has (anchors as
 * GitHub makes them). README.md stays a manual, not a notebook: at most 500 lines.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README_MAX_LINES = 500;

/** Markdown text without fenced code blocks, indented code blocks and inline code spans. */
function prose(text: string): string {
  const kept: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced || /^( {4}|\t)/.test(line)) continue;
    kept.push(line.replace(/`+[^`]*`+/g, ''));
  }
  return kept.join('\n');
}

/** Link targets of `[text](target)` and `![alt](target)`, titles dropped. */
function linkTargets(text: string): string[] {
  return [...prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

/** A heading's anchor as GitHub makes it: its text, lower case, punctuation dropped, spaces → `-`. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown text's headings make; a repeated heading gets `-1`, `-2`, … as on GitHub. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** What is wrong with the relative links of `file` (a path in the repository), one line each. */
function brokenLinks(file: string, read: (path: string) => string, exists: (path: string) => boolean): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(read(file))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    const hash = target.indexOf('#');
    const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const to = path === '' ? file : join(dirname(file), path);
    if (!exists(to)) {
      problems.push(`${file}: ${target}: no file ${to}`);
      continue;
    }
    if (anchor !== undefined && to.endsWith('.md') && !anchors(read(to)).has(anchor)) {
      problems.push(`${file}: ${target}: no heading #${anchor} in ${to}`);
    }
  }
  return problems;
}

const repoFiles = (): string[] => [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const readRepo = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const existsInRepo = (path: string): boolean =>
  !relative(ROOT, join(ROOT, path)).startsWith('..') && existsSync(join(ROOT, path));

describe('the manual', () => {
  it('README.md is at most 500 lines', () => {
    const lines = readRepo('README.md').split('\n').length - 1;
    assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move detail to docs/`);
  });

  it('every relative link in README.md, CHANGELOG.md and docs/*.md points at a file and heading that exist', () => {
    const files = repoFiles();
    assert.ok(files.length > 3, 'the docs were found');
    assert.deepEqual(
      files.flatMap((f) => brokenLinks(f, readRepo, existsInRepo)),
      [],
    );
  });

  it('README.md links the detail in docs/', () => {
    const linked = new Set(linkTargets(readRepo('README.md')).map((t) => t.split('#')[0]));
    const missing = repoFiles().filter((f) => f.startsWith('docs/') && !linked.has(f));
    assert.deepEqual(missing, [], 'each docs/ page is reachable from the README');
  });
});

describe('the link checker', () => {
  const files: Record<string, string> = {
    'README.md':
      '# Title\n\n## Choosing a mode\n\n[ok](docs/a.md#7-wake-ups) [bad](docs/a.md#nope)\n' +
      '[gone](docs/b.md) [self](#choosing-a-mode) [web](https://example.com/x) `[code](nowhere.md)`\n' +
      '    [indented code](nowhere.md)\n',
    'docs/a.md':
      '# A\n\n## 7. Wake-ups\n\n## Prometheus `/metrics`\n\n## Prometheus `/metrics`\n[up](../README.md#title)\n',
  };
  const read = (p: string): string => files[p] ?? '';
  const exists = (p: string): boolean => p in files;

  it('finds a missing file and a missing heading, and nothing else', () => {
    assert.deepEqual(brokenLinks('README.md', read, exists), [
      'README.md: docs/a.md#nope: no heading #nope in docs/a.md',
      'README.md: docs/b.md: no file docs/b.md',
    ]);
    assert.deepEqual(brokenLinks('docs/a.md', read, exists), []);
  });

  it('makes anchors as GitHub does', () => {
    assert.deepEqual(
      [...anchors(files['docs/a.md']!)],
      ['a', '7-wake-ups', 'prometheus-metrics', 'prometheus-metrics-1'],
    );
    assert.equal(slug('Stream, one-shot or cgroup'), 'stream-one-shot-or-cgroup');
    assert.equal(slug('Carbon (Graphite without Backstop)'), 'carbon-graphite-without-backstop');
  });
});
