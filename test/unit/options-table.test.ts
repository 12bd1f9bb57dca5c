import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { helpText, OPTION, OPTIONS, readmeDefault } from '../../src/cli.js';
import { parseConfig } from '../../src/config.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the README's table headed `flag | variable | meaning | default`, as cells. */
function flagTable(text: string): string[][] {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => /^\|\s*flag\s*\|\s*variable\s*\|\s*meaning\s*\|\s*default\s*\|$/.test(l.trim()));
  assert.notEqual(head, -1, 'README.md has a table headed | flag | variable | meaning | default |');
  const rows: string[][] = [];
  for (const line of lines.slice(head + 2)) {
    if (!line.trim().startsWith('|')) break;
    // A backslash-escaped | belongs to a cell; none of the flag, variable or default cells holds one.
    rows.push(
      line
        .trim()
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('the option table (src/cli.ts) and the README flag table', () => {
  const rows = flagTable(README);

  it('the README lists every flag once, with its variables in the same row, and no other flag', () => {
    const seen: string[] = [];
    for (const cells of rows) {
      assert.equal(cells.length, 4, `four cells: ${cells.join(' | ')}`);
      const flags = [...cells[0]!.matchAll(/`--([a-z-]+)/g)].map((m) => m[1]!);
      assert.ok(flags.length > 0, `a flag in ${cells[0]}`);
      const variables = [...cells[1]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
      const expected = flags.flatMap((f) => {
        const spec = OPTIONS.find((o) => o.flag === f);
        assert.ok(spec, `--${f} in the README is not an option of src/cli.ts`);
        return spec.env ? [spec.env] : [];
      });
      assert.deepEqual(variables, expected, `the variables of ${cells[0]}`);
      seen.push(...flags);
    }
    assert.deepEqual([...seen].sort(), OPTIONS.map((o) => o.flag).sort());
    assert.equal(new Set(seen).size, seen.length, 'each flag in one row');
  });

  it("each row states the default of the table (a row of two flags: the first one's)", () => {
    for (const cells of rows) {
      const flag = /`--([a-z-]+)/.exec(cells[0]!)![1]!;
      const spec = OPTIONS.find((o) => o.flag === flag)!;
      assert.equal(cells[3], readmeDefault(spec), `the default of --${flag}`);
    }
  });

  it('--help prints each default the table states', () => {
    const help = helpText('0.0.0');
    assert.match(help, /--poll DURATION +.*\[default: 60s\] \(SRV_POLL\)/);
    assert.match(help, /--hostname NAME +.*\[default: the OS host name\] \(SRV_HOSTNAME\)/);
    assert.doesNotMatch(help, /--backstop-file FILE +.*\[default/);
  });

  it("parsing uses the table's defaults", () => {
    const out = parseConfig({ argv: [], env: {}, hostname: 'h', homedir: '/nonexistent', exists: () => true });
    assert.ok(out.kind === 'config');
    const c = out.config;
    assert.deepEqual(
      [c.pollMs, c.stallTimeoutMs, c.shutdownTimeoutMs, c.diskIntervalMs, c.spoolMaxBytes, c.bufferMaxBytes],
      [60_000, 30_000, 10_000, 600_000, 1 << 30, 64 << 20],
    );
    const rest = [c.bufferMaxItems, c.concurrency, c.mode, c.hostProc, c.cgroupRoot];
    assert.deepEqual(rest, [200_000, 8, 'stream', '/proc', '/sys/fs/cgroup']);
    assert.deepEqual([c.metrics.perInterface, c.metrics.perDevice, c.once, c.verbose], [true, false, false, false]);
    assert.equal(OPTION.poll.default, '60s');
  });
});
