import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadDashboard, queryPanels } from '../helpers/dashboards.js';
import { madeFamilies, type MadeFamily } from '../helpers/families.js';

/**
 * Every metric name the dashboards and deploy/prometheus/alerts.yml use is one the daemon makes
 * (test/helpers/families.ts), so a panel or an alert on a misspelt or renamed metric fails here
 * instead of showing nothing; and alerts.test.yml both fires and spares each alert.
 */

const made = madeFamilies();
const families = new Set(made.map((f) => f.family));

/** The Prometheus families a PromQL expression names (every family of the daemon starts with `docker_`). */
function promFamilies(expr: string): string[] {
  return [...expr.matchAll(/\b(docker_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

/** `a.{b,c}.d` → `a.b.d`, `a.c.d`. */
function expandBraces(path: string): string[] {
  const m = /\{([^{}]*)\}/.exec(path);
  if (!m) return [path];
  return m[1]!
    .split(',')
    .flatMap((alt) => expandBraces(path.slice(0, m.index) + alt + path.slice(m.index + m[0].length)));
}

/** Whether a Graphite path below a subject (`containers.*`) matches a made one (`network.*.rx_bytes`). */
function carbonMatches(target: string, madePath: string): boolean {
  const a = target.split('.');
  const b = madePath.split('.');
  return a.length === b.length && a.every((seg, i) => seg === '*' || b[i] === '*' || seg === b[i]);
}

/** The paths below `$container.` and `$host.` a Graphite target names, with the subjects they may be of. */
function graphitePaths(target: string): { path: string; subjects: MadeFamily['subject'][] }[] {
  return [...target.matchAll(/\$(container|host)\.((?:[A-Za-z0-9_.*]|\{[^{}]*\})+)/g)].flatMap((m) =>
    expandBraces(m[2]!).map((path) => ({
      path,
      subjects: m[1] === 'container' ? ['container' as const] : ['host' as const, 'daemon' as const],
    })),
  );
}

function graphiteKnown(path: string, subjects: readonly MadeFamily['subject'][]): boolean {
  return made.some((f) => subjects.includes(f.subject) && carbonMatches(path, f.carbon));
}

describe('the metric names the dashboards and the alerts use', () => {
  it('the checks themselves reject a name the daemon does not make', () => {
    assert.deepEqual(
      promFamilies('increase(docker_container_oom_kill_total{name=~"x"}[5m])').filter((f) => !families.has(f)),
      ['docker_container_oom_kill_total'],
    );
    assert.equal(graphiteKnown('cpu.percent_of_limt', ['container']), false);
    assert.equal(graphiteKnown('containers_states.*', ['host', 'daemon']), false);
    assert.equal(graphiteKnown('oom_kills', ['host', 'daemon']), false, 'a container metric under the host path');
    assert.equal(graphiteKnown('network.*.rx_bytes', ['container']), true);
  });

  for (const kind of ['graphite', 'prometheus'] as const) {
    it(`every ${kind} dashboard target names metrics the daemon makes`, () => {
      let checked = 0;
      for (const panel of queryPanels(loadDashboard(kind))) {
        for (const t of panel.targets ?? []) {
          if (kind === 'prometheus') {
            const named = promFamilies(t.expr!);
            assert.ok(named.length > 0, `${panel.title} ${t.refId} names a family`);
            for (const f of named)
              assert.ok(families.has(f), `${panel.title} ${t.refId}: ${f} is not a family the daemon makes`);
            checked += named.length;
          } else {
            const named = graphitePaths(t.target!);
            assert.ok(named.length > 0, `${panel.title} ${t.refId} names a path`);
            for (const { path, subjects } of named)
              assert.ok(
                graphiteKnown(path, subjects),
                `${panel.title} ${t.refId}: ${path} is not a path the daemon sends`,
              );
            checked += named.length;
          }
        }
      }
      assert.ok(checked >= 20, `${checked} names checked`);
    });
  }

  it('every family an alert names is one the daemon makes, counters through increase() or rate()', () => {
    const rules = alertRules();
    assert.ok(rules.length >= 5);
    const counters = new Set(made.filter((f) => f.kind === 'counter').map((f) => f.family));
    for (const r of rules) {
      const named = promFamilies(r.expr);
      assert.ok(named.length > 0, r.alert);
      for (const f of named) {
        assert.ok(families.has(f), `${r.alert}: ${f} is not a family the daemon makes`);
        if (counters.has(f))
          assert.match(
            r.expr,
            new RegExp(`(increase|rate)\\(${f}\\b`),
            `${r.alert}: the counter ${f} through increase() or rate()`,
          );
      }
    }
  });

  it('alerts.yml alerts on OOM kills, exits, a crash loop, CPU and memory limits, and a failing sink', () => {
    const exprs = alertRules()
      .map((r) => r.expr)
      .join('\n');
    for (const f of [
      'docker_container_oom_kills_total',
      'docker_container_oom_killed',
      'docker_container_exit_code',
      'docker_container_restarts_total',
      'docker_container_cpu_percent_of_limit',
      'docker_container_memory_working_set',
      'docker_container_memory_limit',
      'docker_stats_to_backstop_send_failures_total',
      'docker_stats_to_backstop_dropped_total',
    ])
      assert.ok(exprs.includes(f), f);
  });

  it('alerts.test.yml fires each alert for some series and spares another series of the same family', () => {
    const tests = parse(
      readFileSync(new URL('../../deploy/prometheus/alerts.test.yml', import.meta.url), 'utf8'),
    ) as AlertTests;
    for (const r of alertRules()) {
      const cases = tests.tests.flatMap((t) =>
        t.alert_rule_test.filter((c) => c.alertname === r.alert).map((c) => ({ t, c })),
      );
      const fired = cases.filter(({ c }) => c.exp_alerts.length > 0);
      assert.ok(fired.length > 0, `${r.alert} fires in a test`);
      const firedLabels = fired.flatMap(({ c }) => c.exp_alerts.map((a) => a.exp_labels));
      const spared = cases
        .flatMap(({ t }) => t.input_series)
        .filter((s) => {
          const m = /^(\w+)\{(.*)\}$/.exec(s.series);
          if (!m || !promFamilies(r.expr).includes(m[1]!)) return false;
          const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
          return !firedLabels.some((fl) => Object.entries(labels).every(([k, v]) => String(fl[k]) === v));
        });
      assert.ok(spared.length > 0, `${r.alert}: an input series of its family that does not fire it`);
    }
  });
});

interface AlertTests {
  tests: {
    input_series: { series: string; values: string }[];
    alert_rule_test: { alertname: string; exp_alerts: { exp_labels: Record<string, unknown> }[] }[];
  }[];
}

function alertRules(): { alert: string; expr: string }[] {
  const doc = parse(readFileSync(new URL('../../deploy/prometheus/alerts.yml', import.meta.url), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return doc.groups.flatMap((g) => g.rules);
}
