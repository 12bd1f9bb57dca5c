import { readFileSync } from 'node:fs';

/**
 * dashboards/*.json as the tests read them, and the parts of Grafana's templating the tests need to
 * evaluate them the way Grafana would: `$name` / `${name}` interpolation with Grafana's multi-value
 * formats, and a query variable's regex.
 */

export type DashboardKind = 'graphite' | 'prometheus';

export interface DashboardTarget {
  refId: string;
  datasource?: { type: string; uid: string };
  /** Graphite. */
  target?: string;
  /** Prometheus. */
  expr?: string;
  legendFormat?: string;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query: string;
  datasource?: { type: string; uid: string };
  regex?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

export interface Dashboard {
  title: string;
  uid: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export function loadDashboard(kind: DashboardKind): Dashboard {
  return JSON.parse(readFileSync(new URL(`../../dashboards/${kind}.json`, import.meta.url), 'utf8')) as Dashboard;
}

/** The panels that query something (not the rows). */
export function queryPanels(d: Dashboard): DashboardPanel[] {
  return d.panels.filter((p) => p.type !== 'row');
}

/** A dashboard's query variable by name. */
export function variable(d: Dashboard, name: string): DashboardVariable {
  const v = d.templating.list.find((x) => x.name === name);
  if (!v) throw new Error(`${d.uid} has no variable ${name}`);
  return v;
}

/** Grafana's escape of one value for a Prometheus regex matcher (`.` → `\\.` inside the PromQL string). */
function promRegexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

/**
 * Replaces `$name` and `${name}` as Grafana does for the data source's kind: one value as it is
 * (Prometheus: regex-escaped), several as a Graphite glob `{a,b}` or a Prometheus regex `(a|b)`.
 * Names not in `values` (Grafana's own `$__…` macros) are left alone.
 */
export function interpolate(
  text: string,
  values: Readonly<Record<string, readonly string[]>>,
  kind: DashboardKind,
): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const vals = values[name];
    if (!vals) return whole;
    if (kind === 'graphite') return vals.length === 1 ? vals[0]! : `{${vals.join(',')}}`;
    const escaped = vals.map(promRegexEscape);
    return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
  });
}

/**
 * What Grafana makes of a query variable's results with its regex (`/…/flags`): the items the regex
 * matches, each replaced by its first group when it has one, without repeats, sorted (sort 1).
 */
export function applyVariableRegex(items: readonly string[], regex: string | undefined): string[] {
  let out = [...items];
  if (regex) {
    const m = /^\/(.*)\/([a-z]*)$/s.exec(regex);
    if (!m) throw new Error(`not a /regex/: ${regex}`);
    const re = new RegExp(m[1]!, m[2]);
    out = items.flatMap((item) => {
      const hit = re.exec(item);
      return hit ? [hit[1] ?? hit[0]] : [];
    });
  }
  return [...new Set(out)].sort();
}
