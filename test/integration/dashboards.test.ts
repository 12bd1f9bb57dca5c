import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DashboardRig } from '../helpers/dashboard-rig.js';
import { applyVariableRegex, interpolate, loadDashboard, queryPanels, variable } from '../helpers/dashboards.js';
import { pollUntil } from '../helpers/poll.js';
import type { GraphiteSeries } from '../helpers/services.js';

/**
 * dashboards/graphite.json and dashboards/prometheus.json evaluated as Grafana would evaluate them,
 * against real data: the daemon feeds Debian's carbon-cache (read back through Debian's
 * graphite-web) and serves /metrics to Debian's Prometheus, from real containers that use CPU,
 * memory, network and disk, restart, run a healthcheck, are OOM-killed and exit (test/helpers/dashboard-rig.ts). Every
 * target and expression must return points, and each panel the figures its containers make.
 */

const MiB = 2 ** 20;
const max = (values: readonly number[]): number => Math.max(-Infinity, ...values);

describe('the Grafana dashboards against real carbon, graphite-web and Prometheus', () => {
  const rig = new DashboardRig(5);
  const graphiteDash = loadDashboard('graphite');
  const promDash = loadDashboard('prometheus');

  // The runner ends a test file after 300 s (scripts/test.sh) without running its after hooks, and
  // the services and containers would outlive it. So the set-up and every wait share 220 s: a
  // failure is reported, and cleaned up, before that.
  let deadline = Date.now() + 220_000;
  const upTo = (ms: number): number => Math.max(5_000, Math.min(ms, deadline - Date.now()));
  before(
    async () => {
      deadline = Date.now() + 220_000;
      await rig.start({ prometheus: true });
    },
    { timeout: 240_000 },
  );
  after(() => rig.stop(), { timeout: 50_000 });

  it('the Graphite variables list the Backstop name, the host and the one-segment containers', async () => {
    const list = async (name: string, query = variable(graphiteDash, name).query): Promise<string[]> => {
      const q = interpolate(query, { prefix: [rig.prefix] }, 'graphite');
      const expand = /^expand\((.*)\)$/.exec(q);
      const items = expand ? await rig.graphite.expand(expand[1]!) : (await rig.graphite.find(q)).map((n) => n.text);
      return applyVariableRegex(items, variable(graphiteDash, name).regex);
    };
    const expected = { prefix: [rig.prefix], host: [rig.hostPath], container: [...rig.paths] };
    for (const [name, want] of Object.entries(expected)) {
      await pollUntil(
        async () => {
          const got = await list(name);
          if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`listed ${JSON.stringify(got)}`);
          return true;
        },
        `variable ${name} listing ${JSON.stringify(want)}`,
        upTo(60_000),
      );
    }
    // The README's edit for two-segment container paths: `$prefix.*.*.uptime` lists svc.api.
    assert.deepEqual(await list('container', 'expand($prefix.*.*.uptime)'), [rig.dottedPath]);
  });

  it('every Graphite target returns points, and each panel the figures of its containers', async () => {
    const hostValues = { prefix: [rig.prefix], host: [rig.hostPath], container: [...rig.paths] };
    const h = rig.hostPath;
    /** Per panel: the series (by their alias) that must be there, and what their non-null points must show. */
    const expect: Record<string, Record<string, (v: number[]) => boolean>> = {
      'CPU %': { worker: (v) => max(v) > 5 },
      'Memory working set and limit': {
        'worker working_set': (v) => max(v) > 4 * MiB,
        'worker limit': (v) => v.at(-1) === 128 * MiB,
        'web limit': (v) => v.at(-1) === 64 * MiB,
      },
      'Memory % of limit': { worker: (v) => max(v) > 3 },
      'Network (rx up, tx down)': { 'web tx': (v) => max(v) > 10_000, 'web rx': (v) => max(v) > 0 },
      'Block I/O (read up, write down)': { 'worker write': (v) => max(v) > 0, 'worker read': (v) => max(v) > 0 },
      Restarts: { flaky: (v) => max(v) >= 1, web: (v) => v.at(-1) === 0 },
      Health: { web: (v) => v.at(-1) === 1 },
      'CPU % of limit': { worker: (v) => max(v) > 50 },
      'CPU limit (CPUs)': { worker: (v) => v.at(-1) === 0.3 },
      'OOM kills': { oom: (v) => max(v) >= 1, web: (v) => v.every((x) => x === 0) },
      'Exits: exit code and OOM-killed': {
        'done exit_code': (v) => v.includes(3),
        'done oom_killed': (v) => v.every((x) => x === 0),
      },
      'Container states': {
        [`${h} running`]: (v) => max(v) >= 4,
        [`${h} exited`]: (v) => max(v) >= 1,
        [`${h} dead`]: (v) => v.every((x) => x === 0),
      },
      'Container health': { [`${h} healthy`]: (v) => v.at(-1) === 1, [`${h} unhealthy`]: (v) => v.at(-1) === 0 },
      'Containers reported': { [`${h}.total`]: (v) => max(v) >= 5 },
      'Metrics sent per second': { [h]: (v) => max(v) > 0 },
      'Send failures and dropped metrics per second': {
        [`${h}.send_failures`]: (v) => v.every((x) => x === 0),
        [`${h}.dropped`]: (v) => v.every((x) => x === 0),
      },
      'Metrics waiting in memory': { [h]: (v) => v.length > 0 },
      'Bytes waiting in the spool': { [h]: (v) => v.every((x) => x === 0) },
    };
    const panels = queryPanels(graphiteDash);
    assert.deepEqual(panels.map((p) => p.title).sort(), Object.keys(expect).sort(), 'an expectation for every panel');

    let evaluated = 0;
    await pollUntil(
      async () => {
        const problems: string[] = [];
        evaluated = 0;
        for (const panel of panels) {
          const got = new Map<string, number[]>();
          for (const t of panel.targets ?? []) {
            const target = interpolate(t.target!, hostValues, 'graphite');
            const series: GraphiteSeries[] = await rig.graphite.render(target);
            evaluated += 1;
            const withPoints = series.filter((s) => s.datapoints.some(([v]) => v !== null));
            if (withPoints.length === 0)
              problems.push(`${panel.title}: ${target} returned ${series.length} series and no point`);
            for (const s of series)
              got.set(
                s.target,
                s.datapoints.flatMap(([v]) => (v === null ? [] : [v])),
              );
          }
          for (const [name, ok] of Object.entries(expect[panel.title]!)) {
            const values = got.get(name);
            if (!values || values.length === 0)
              problems.push(`${panel.title}: no series ${name} (got ${[...got.keys()].join(', ')})`);
            else if (!ok(values)) problems.push(`${panel.title}: ${name} = ${JSON.stringify(values.slice(-12))}`);
          }
        }
        if (problems.length > 0) throw new Error(problems.join('\n'));
        return true;
      },
      'every Graphite target with points and every expectation met',
      upTo(90_000),
    );
    console.log(
      `# graphite: ${evaluated} targets of ${panels.length} panels evaluated through /render, all with points`,
    );

    // Two-segment paths, as the README says: single values work (the legend is the whole path).
    const cpu = interpolate(
      panels.find((p) => p.title === 'CPU %')!.targets![0]!.target!,
      { ...hostValues, container: [rig.dottedPath] },
      'graphite',
    );
    const dotted = await rig.graphite.render(cpu);
    assert.deepEqual(
      dotted.map((s) => s.target),
      [rig.dottedPath],
    );
  });

  it('the Prometheus variables list the instance and the containers; every expression returns series', async () => {
    const instance = `127.0.0.1:${rig.listenPort}`;
    const names = [...rig.paths, rig.dottedPath].map((p) => rig.containerName(p)).sort();
    const label = async (name: string, values: Record<string, string[]>): Promise<string[]> => {
      const m = /^label_values\((.*),\s*(\w+)\)$/.exec(
        interpolate(variable(promDash, name).query, values, 'prometheus'),
      );
      assert.ok(m, `${name} is a label_values() query`);
      return (await rig.prometheus.labelValues(m[2]!, m[1]!)).sort();
    };
    await pollUntil(
      async () => JSON.stringify(await label('instance', {})) === JSON.stringify([instance]),
      `instance lists ${instance}`,
      upTo(60_000),
    );
    await pollUntil(
      async () => JSON.stringify(await label('container', { instance: [instance] })) === JSON.stringify(names),
      `container lists ${names.join(', ')}`,
      upTo(60_000),
    );

    const worker = rig.containerName('worker');
    const web = rig.containerName('web');
    const flaky = rig.containerName('flaky');
    const oom = rig.containerName('oom');
    const done = rig.containerName('done');
    const hostCount = (r: Result, key: string, value: string): number | undefined => {
      const hit = r.find((s) => s.metric[key] === value);
      return hit ? Number(hit.value[1]) : undefined;
    };
    type Result = { metric: Record<string, string>; value: [number, string] }[];
    const value = (r: Result, name: string): number | undefined => {
      const hit = r.find((s) => s.metric['name'] === name);
      return hit ? Number(hit.value[1]) : undefined;
    };
    /** Per panel and target refId: what the result must show beyond being non-empty. */
    const expect: Record<string, Record<string, (r: Result) => boolean>> = {
      'CPU %': { A: (r) => (value(r, worker) ?? 0) > 5 },
      'Memory working set and limit': {
        A: (r) => (value(r, worker) ?? 0) > 4 * MiB,
        B: (r) => value(r, worker) === 128 * MiB,
      },
      'Memory % of limit': { A: (r) => value(r, worker) !== undefined },
      'Network (rx up, tx down)': { A: (r) => value(r, web) !== undefined, B: (r) => (value(r, web) ?? 0) > 10_000 },
      'Block I/O (read up, write down)': {
        A: (r) => value(r, worker) !== undefined,
        B: (r) => (value(r, worker) ?? 0) > 0,
      },
      Restarts: { A: (r) => (value(r, flaky) ?? 0) >= 1 },
      Health: { A: (r) => value(r, web) === 1 },
      'CPU % of limit': { A: (r) => (value(r, worker) ?? 0) > 50 },
      'CPU limit (CPUs)': { A: (r) => value(r, worker) === 0.3 },
      'OOM kills': { A: (r) => (value(r, oom) ?? 0) > 0 },
      'Exits: exit code and OOM-killed': { A: (r) => value(r, done) === 3, B: (r) => value(r, done) === 0 },
      'Container states': {
        A: (r) => (hostCount(r, 'state', 'running') ?? 0) >= 4 && (hostCount(r, 'state', 'exited') ?? 0) >= 1,
      },
      'Container health': { A: (r) => hostCount(r, 'health', 'healthy') === 1 },
      'Containers reported': { A: (r) => r.some((s) => s.metric['category'] === 'total' && Number(s.value[1]) >= 3) },
      'Metrics sent per second': { A: (r) => Number(r[0]?.value[1]) > 0 },
      'Send failures and dropped metrics per second': {
        A: (r) => Number(r[0]?.value[1]) === 0,
        B: (r) => Number(r[0]?.value[1]) === 0,
      },
      'Metrics waiting in memory': { A: (r) => r.length === 1 },
      'Bytes waiting in the spool': { A: (r) => Number(r[0]?.value[1]) === 0 },
    };
    const panels = queryPanels(promDash);
    assert.deepEqual(panels.map((p) => p.title).sort(), Object.keys(expect).sort(), 'an expectation for every panel');
    const values = { instance: [instance], container: names };
    let evaluated = 0;
    // An instant query sees one moment: flaky is absent while it restarts. So each expectation need
    // only have held once during the wait; every expression must be non-empty in the last round.
    const met = new Set<string>();
    await pollUntil(
      async () => {
        const problems: string[] = [];
        evaluated = 0;
        for (const panel of panels) {
          for (const t of panel.targets ?? []) {
            // Grafana makes $__rate_interval at least four scrape intervals; 30s spans several of the daemon's ticks.
            const expr = interpolate(t.expr!, values, 'prometheus').replaceAll('$__rate_interval', '30s');
            const result = await rig.prometheus.query(expr);
            evaluated += 1;
            const key = `${panel.title} ${t.refId}`;
            const ok = expect[panel.title]![t.refId];
            if (ok?.(result)) met.add(key);
            if (result.length === 0) problems.push(`${key}: ${expr} returned nothing`);
            else if (ok && !met.has(key)) {
              const who = (m: Record<string, string>) => m['name'] ?? m['category'] ?? m['state'] ?? m['health'];
              const shown = result.map((s) => [who(s.metric), s.value[1]]);
              problems.push(`${key}: ${expr} = ${JSON.stringify(shown)}`);
            }
          }
        }
        if (problems.length > 0) throw new Error(problems.join('\n'));
        return true;
      },
      'every Prometheus expression non-empty and every expectation met',
      upTo(90_000),
    );
    console.log(
      `# prometheus: ${evaluated} expressions of ${panels.length} panels through /api/v1/query, all non-empty`,
    );
  });
});
