/*
 * The Grafana dashboard (deploy/grafana/dashboards/tasklens.json) as JSON: its queries, variables
 * and links, and the task measures' queries as their one definition renders them (the definitions
 * `tasklens stats` and the console use). That promtool parses every query is
 * dashboard-queries.integration.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { dashboardExpressions } from '@tasklens/cli';
import { dashboardPanels, dashboardQueries, substituteVariables } from '@tasklens/test-utils';
import { REPO_DIR } from './run-tool.js';

interface DashboardJson {
  uid: string;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: {
    id: number;
    title: string;
    datasource: { uid: string };
    fieldConfig: { defaults: { links?: { url: string }[] } };
    targets: { refId: string; expr: string; exemplar?: boolean }[];
  }[];
}

const dashboard: unknown = JSON.parse(
  readFileSync(join(REPO_DIR, 'deploy/grafana/dashboards/tasklens.json'), 'utf8'),
);
const typed = dashboard as DashboardJson;

describe('substituteVariables', () => {
  it('replaces $name, ${name}, ${name:format} and [[name]]', () => {
    expect(
      substituteVariables('a{job=~"$job", t=~"${task_name}", q=~"${task_queue:regex}"}[[__range]]'),
    ).toBe('a{job=~".+", t=~".+", q=~".*"}1h');
  });

  it('throws on a variable it has no value for', () => {
    expect(() => substituteVariables('rate(x[$unknown])')).toThrow('$unknown');
  });
});

describe('tasklens dashboard queries', () => {
  const queries = dashboardQueries(dashboard);

  it('gives every panel at least one query', () => {
    const panels = dashboardPanels(dashboard);
    expect(panels.length).toBeGreaterThanOrEqual(8);
    for (const panel of panels) {
      const own = queries.filter((query) => query.panelId === panel.id);
      expect(own.length, `panel "${String(panel.title)}" has no query`).toBeGreaterThan(0);
    }
  });

  it('leaves no variable unsubstituted', () => {
    for (const query of queries) expect(query.expr).not.toContain('$');
  });

  it('has uid tasklens-tasks and picks its data sources through variables', () => {
    expect(typed.uid).toBe('tasklens-tasks');
    const variables = new Map(typed.templating.list.map((variable) => [variable.name, variable]));
    expect(variables.get('prometheus')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.get('jaeger')).toMatchObject({ type: 'datasource', query: 'jaeger' });
    for (const name of ['job', 'task_name', 'task_queue']) {
      expect(variables.get(name)?.type, name).toBe('query');
    }
    for (const panel of typed.panels) expect(panel.datasource.uid).toBe('${prometheus}');
  });

  it('queries each task measure as its definition renders it (node scripts/generate-dashboard-queries.js)', () => {
    const rendered = dashboardExpressions();
    expect(rendered.map((target) => target.panelTitle)).toEqual(
      expect.arrayContaining([
        'Finished attempts per second',
        'Failure ratio',
        'Duration p50 / p95 / p99',
        'Queue wait p95',
        'In flight',
        'Time since last success',
        'Chain latency p95',
      ]),
    );
    for (const { panelId, panelTitle, refId, expr } of rendered) {
      const panel = typed.panels.find((candidate) => candidate.id === panelId);
      expect(panel?.title, `panel ${panelId}`).toBe(panelTitle);
      const target = panel?.targets.find((candidate) => candidate.refId === refId);
      expect(target?.expr, `panel ${panelId} "${panelTitle}" target ${refId}`).toBe(expr);
    }
  });

  it('links the failure panels to the failing traces of the task in Jaeger', () => {
    const failurePanels = typed.panels.filter((panel) => /fail/i.test(panel.title));
    expect(failurePanels.length).toBeGreaterThanOrEqual(2);
    for (const panel of failurePanels) {
      const urls = (panel.fieldConfig.defaults.links ?? []).map((link) => link.url);
      const jaegerSearch = urls.find((url) => url.startsWith('${jaeger_url}/search?'));
      expect(jaegerSearch, panel.title).toBeDefined();
      expect(jaegerSearch).toContain('service=${__field.labels.job');
      // Jaeger v2 matches tags against span attributes, so failures are found by task.outcome.
      expect(decodeURIComponent(jaegerSearch ?? '')).toMatch(
        /\{"task\.name":"\$\{__field\.labels\.task_name[^}]*\}","task\.outcome":"failure"\}/,
      );
    }
  });

  it('shows exemplars on the duration and failures panels, from every bucket series', () => {
    for (const title of ['Duration p50 / p95 / p99', 'Failures per second by error type']) {
      const panel = typed.panels.find((candidate) => candidate.title === title);
      const withExemplars = panel?.targets.filter((target) => target.exemplar === true) ?? [];
      expect(withExemplars, title).toHaveLength(1);
      // Exemplars are stored on the bucket series: the query must select them all (no `le`).
      expect(withExemplars[0].expr).toMatch(/task_duration_seconds_bucket\{[^}]*\}/);
      expect(withExemplars[0].expr).not.toMatch(/\ble=/);
    }
    const datasources = readFileSync(
      join(REPO_DIR, 'deploy/grafana/provisioning/datasources/datasources.yaml'),
      'utf8',
    );
    expect(datasources).toMatch(
      /exemplarTraceIdDestinations:\s*\n\s*- name: trace_id\s*\n\s*datasourceUid: jaeger/,
    );
  });
});
