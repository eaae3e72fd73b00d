/**
 * Reads the PromQL queries out of a Grafana dashboard JSON (deploy/grafana/dashboards/tasklens.json),
 * with its template variables replaced by values that match every series, so that a test can run
 * each query against a real Prometheus and expect series back.
 */

/** One PromQL query of a dashboard panel, variables substituted. */
export interface DashboardQuery {
  readonly panelId: number;
  readonly panelTitle: string;
  readonly refId: string;
  readonly expr: string;
}

/**
 * Values for the dashboard's variables and Grafana's built-in ones: regexes that match every value
 * of a label (task_queue may be absent, so `.*`), and ranges for the interval variables.
 */
export const MATCH_ALL_VARIABLES: Readonly<Record<string, string>> = Object.freeze({
  job: '.+',
  task_name: '.+',
  task_queue: '.*',
  __rate_interval: '5m',
  __rate_interval_ms: '300000',
  __interval: '1m',
  __range: '1h',
});

interface PanelJson {
  id?: unknown;
  title?: unknown;
  targets?: unknown;
  panels?: unknown;
}

interface TargetJson {
  refId?: unknown;
  expr?: unknown;
}

// $name, ${name} and ${name:format}, and the older [[name]].
const VARIABLE = /\$\{(\w+)(?::[\w-]+)?\}|\$(\w+)|\[\[(\w+)\]\]/g;

/**
 * Replaces every variable reference in `expr`; throws on a variable `values` does not name, so no
 * query is returned with a `$` left in it.
 */
export function substituteVariables(
  expr: string,
  values: Readonly<Record<string, string>> = MATCH_ALL_VARIABLES,
): string {
  return expr.replace(VARIABLE, (reference, braced?: string, bare?: string, old?: string) => {
    const name = braced ?? bare ?? old ?? '';
    const value = values[name];
    if (value === undefined) {
      throw new Error(`no value for the dashboard variable ${reference} in: ${expr}`);
    }
    return value;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The panels of a dashboard, including those nested in rows, in document order. */
export function dashboardPanels(dashboard: unknown): PanelJson[] {
  const found: PanelJson[] = [];
  const visit = (panels: unknown): void => {
    if (!Array.isArray(panels)) return;
    for (const panel of panels) {
      if (!isObject(panel)) continue;
      const typed = panel as PanelJson;
      if (panel.type !== 'row') found.push(typed);
      visit(typed.panels);
    }
  };
  visit(isObject(dashboard) ? dashboard.panels : undefined);
  return found;
}

/**
 * Every `expr` of every panel target of `dashboard` (parsed JSON), variables substituted with
 * `values` ({@link MATCH_ALL_VARIABLES} by default). Targets without an expr (other data sources)
 * are left out.
 *
 * @example
 * const dashboard: unknown = JSON.parse(readFileSync('deploy/grafana/dashboards/tasklens.json', 'utf8'));
 * for (const query of dashboardQueries(dashboard)) await expectSeries(query.expr);
 */
export function dashboardQueries(
  dashboard: unknown,
  values: Readonly<Record<string, string>> = MATCH_ALL_VARIABLES,
): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of dashboardPanels(dashboard)) {
    if (!Array.isArray(panel.targets)) continue;
    for (const target of panel.targets as unknown[]) {
      if (!isObject(target)) continue;
      const { refId, expr } = target as TargetJson;
      if (typeof expr !== 'string') continue;
      queries.push({
        panelId: typeof panel.id === 'number' ? panel.id : -1,
        panelTitle: typeof panel.title === 'string' ? panel.title : '',
        refId: typeof refId === 'string' ? refId : '',
        expr: substituteVariables(expr, values),
      });
    }
  }
  return queries;
}
