import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyVariableRegex,
  interpolate,
  loadDashboard,
  queryPanels,
  variable,
  type DashboardKind,
} from '../helpers/dashboards.js';

/**
 * dashboards/*.json without a Grafana: what import needs (a data source variable behind every
 * query), that both dashboards hold the same panels, and what the variables make of real paths.
 * test/integration/dashboards.test.ts evaluates the queries against real data.
 */

const kinds: DashboardKind[] = ['graphite', 'prometheus'];

describe('dashboards', () => {
  for (const kind of kinds) {
    it(`${kind}: every panel and query goes through the datasource variable; every variable used is defined`, () => {
      const d = loadDashboard(kind);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, expanded by Grafana.
      const ds = { type: kind, uid: '${datasource}' };
      const dsVar = variable(d, 'datasource');
      assert.equal(dsVar.type, 'datasource');
      assert.equal(dsVar.query, kind);
      const names = new Set(d.templating.list.map((v) => v.name));
      const uses = (text: string): string[] => [...text.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]!);
      const ids = new Set<number>();
      for (const p of d.panels) {
        assert.ok(!ids.has(p.id), `panel id ${p.id} once`);
        ids.add(p.id);
      }
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        assert.deepEqual(v.datasource, ds, `variable ${v.name}`);
        for (const u of uses(v.query)) assert.ok(names.has(u), `variable ${v.name} uses $${u}, which is defined`);
      }
      for (const p of queryPanels(d)) {
        assert.deepEqual(p.datasource, ds, p.title);
        assert.ok((p.targets ?? []).length > 0, `${p.title} has targets`);
        for (const t of p.targets!) {
          assert.deepEqual(t.datasource, ds, `${p.title} ${t.refId}`);
          const text = kind === 'graphite' ? t.target : t.expr;
          assert.ok(text, `${p.title} ${t.refId} has a query`);
          for (const u of uses(text)) {
            const ok = names.has(u) || (kind === 'prometheus' && u === '__rate_interval');
            assert.ok(ok, `${p.title} ${t.refId} uses $${u}`);
          }
        }
      }
    });
  }

  it('both show OOM kills, exits, container states and health, and CPU against its limit', () => {
    const wanted: Record<DashboardKind, readonly string[]> = {
      graphite: [
        'oom_kills',
        'exit_code',
        'oom_killed',
        'containers_state.',
        'containers_health.',
        'cpu.percent_of_limit',
        'cpu.limit',
      ],
      prometheus: [
        'docker_container_oom_kills_total',
        'docker_container_exit_code',
        'docker_container_oom_killed',
        'docker_containers_state',
        'docker_containers_health',
        'docker_container_cpu_percent_of_limit',
        'docker_container_cpu_limit',
      ],
    };
    for (const kind of kinds) {
      const queries = queryPanels(loadDashboard(kind))
        .flatMap((p) => p.targets ?? [])
        .map((t) => t.target ?? t.expr!);
      for (const name of wanted[kind]) {
        // Graphite: after a dot, or inside a `{a,b}` list.
        const pattern =
          kind === 'graphite' ? new RegExp(`[.{,]${name.replace(/[.]/g, '[.]')}`) : new RegExp(`\\b${name}\\{`);
        assert.ok(
          queries.some((q) => pattern.test(q)),
          `${kind}: a panel on ${name}`,
        );
      }
    }
  });

  it('the Graphite and Prometheus dashboards have the same panels, in the same order', () => {
    const [g, p] = kinds.map((k) => loadDashboard(k).panels.map((x) => `${x.type} ${x.title}`));
    assert.deepEqual(p, g);
  });

  it('the Graphite variables pick the Backstop name, hosts and one-segment containers out of expanded paths', () => {
    const d = loadDashboard('graphite');
    const paths = ['docker.h1.containers.total', 'docker.h2.containers.total', 'other.h3.containers.total'];
    assert.deepEqual(applyVariableRegex(paths, variable(d, 'prefix').regex), ['docker', 'other']);
    assert.deepEqual(applyVariableRegex(paths.slice(0, 2), variable(d, 'host').regex), ['h1', 'h2']);
    // A host path as the Go daemon wrote it, with the host name's dots (the README's deeper query).
    assert.deepEqual(applyVariableRegex(['docker.web1.example.com.containers.total'], variable(d, 'host').regex), [
      'web1.example.com',
    ]);
    assert.deepEqual(applyVariableRegex(['docker.web.uptime', 'docker.db.uptime'], variable(d, 'container').regex), [
      'db',
      'web',
    ]);
    // The README's two-segment query keeps the whole container path.
    assert.deepEqual(applyVariableRegex(['docker.svc.api.uptime'], variable(d, 'container').regex), ['svc.api']);
    assert.equal(variable(d, 'host').allValue, '*');
    assert.equal(variable(d, 'container').allValue, '*');
  });

  it('interpolates as Grafana does: Graphite globs, Prometheus regexes with dots escaped', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, expanded by interpolate.
    const graphite = '$prefix.${container}.cpu';
    assert.equal(interpolate(graphite, { prefix: ['docker'], container: ['a', 'b'] }, 'graphite'), 'docker.{a,b}.cpu');
    assert.equal(
      interpolate('x{instance=~"$instance"}[$__rate_interval]', { instance: ['127.0.0.1:9417'] }, 'prometheus'),
      'x{instance=~"127\\\\.0\\\\.0\\\\.1:9417"}[$__rate_interval]',
    );
    assert.equal(interpolate('name=~"$c"', { c: ['a', 'b'] }, 'prometheus'), 'name=~"(a|b)"');
  });
});
