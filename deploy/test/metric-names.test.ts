/*
 * The alert and recording rules and the Grafana dashboard use exactly the metric and label names
 * that the packages export (core's task metrics and attributes, @tasklens/node's spool counters):
 * a renamed metric cannot leave a rule or a panel silently matching nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_QUEUE,
  prometheusLabel,
  TASK_METRICS,
} from '@tasklens/core';
import { SPOOL_METRICS } from '@tasklens/node';
import { dashboardQueries } from '@tasklens/test-utils';
import { REPO_DIR } from './run-tool.js';

const RULES_DIR = join(REPO_DIR, 'deploy/prometheus/rules');

interface RuleFile {
  groups: { rules: { record?: string; alert?: string; expr: string }[] }[];
}

const ruleFiles = readdirSync(RULES_DIR)
  .filter((file) => file.endsWith('.yml'))
  .map((file) => ({ file, rules: load(readFileSync(join(RULES_DIR, file), 'utf8')) as RuleFile }));
const rules = ruleFiles.flatMap(({ rules: parsed }) =>
  parsed.groups.flatMap((group) => group.rules),
);
const recorded = new Set(rules.flatMap((rule) => (rule.record === undefined ? [] : [rule.record])));

const expressions = [
  ...rules.map((rule) => ({ where: rule.record ?? rule.alert ?? '?', expr: rule.expr })),
  ...dashboardQueries(
    JSON.parse(readFileSync(join(REPO_DIR, 'deploy/grafana/dashboards/tasklens.json'), 'utf8')),
  ).map((query) => ({ where: `panel "${query.panelTitle}"`, expr: query.expr })),
];

const exportedMetrics = new Set([
  ...Object.values(TASK_METRICS).map((metric) => metric.prometheusName),
  ...Object.values(SPOOL_METRICS).flatMap((events) =>
    Object.values(events).map((metric) => metric.prometheusName),
  ),
]);
const exportedLabels = new Set(
  [ATTR_TASK_NAME, ATTR_TASK_QUEUE, ATTR_TASK_OUTCOME, ATTR_MESSAGING_SYSTEM, ATTR_ERROR_TYPE].map(
    prometheusLabel,
  ),
);

/** Identifiers of tasklens's own namespaces (`task_…`, `tasklens_…`, rules `task:…:…`). */
function ownIdentifiers(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return (withoutStrings.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((token) =>
    /^task(lens)?[_:]/.test(token),
  );
}

const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

describe('metric and label names in the rules and the dashboard', () => {
  it('finds the expressions', () => {
    expect(ruleFiles.map(({ file }) => file).sort()).toEqual([
      'tasklens-alerts.yml',
      'tasklens-recording.yml',
      'tasklens-thresholds.yml',
    ]);
    expect(expressions.length).toBeGreaterThan(30);
  });

  it('every task_* / tasklens_* name is an exported metric, label or recorded rule', () => {
    const unknown: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of expressions) {
      for (const token of ownIdentifiers(expr)) {
        const metric = token.replace(HISTOGRAM_SERIES, '');
        if (token.includes(':')) {
          // Per-task `:threshold` overrides are the user's to add; their `:default` is ours.
          const rule = token.replace(/:threshold$/, ':default');
          if (!recorded.has(rule)) unknown.push(`${where}: rule ${rule} is never recorded`);
        } else if (exportedMetrics.has(metric) || exportedMetrics.has(token)) {
          used.add(exportedMetrics.has(metric) ? metric : token);
        } else if (!exportedLabels.has(token)) {
          unknown.push(`${where}: ${token}`);
        }
      }
    }
    expect(unknown).toEqual([]);
    // The names the rules and the dashboard are built on are among them.
    for (const metric of [
      TASK_METRICS.duration,
      TASK_METRICS.waitDuration,
      TASK_METRICS.pipelineDuration,
      TASK_METRICS.active,
      TASK_METRICS.lastSuccess,
      TASK_METRICS.retries,
      TASK_METRICS.carrierRejected,
      SPOOL_METRICS.spans.dropped,
    ]) {
      expect(used).toContain(metric.prometheusName);
    }
  });

  it('catches a name that no package exports', () => {
    expect(ownIdentifiers('sum by (task_name) (rate(task_duraton_seconds_count[5m]))')).toEqual([
      'task_name',
      'task_duraton_seconds_count',
    ]);
    expect(exportedMetrics.has('task_duraton_seconds')).toBe(false);
  });
});
