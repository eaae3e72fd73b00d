/*
 * The alert and recording rules and the Grafana dashboard use exactly the metric and label names
 * that the packages export (core's task metrics and attributes, @tasklens/node's spool counters):
 * a renamed metric cannot leave a rule or a panel silently matching nothing.
 */
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
import {
  recordedNames,
  ruleExpressions,
  ruleMetricNames,
  selectedNames,
} from './rule-metric-names.js';

const expressions = ruleExpressions();
const recorded = recordedNames();

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
    expect([...new Set(expressions.map(({ file }) => file))].sort()).toEqual([
      'tasklens-alerts.yml',
      'tasklens-recording.yml',
      'tasklens-thresholds.yml',
      'tasklens.json',
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

  it('the series ruleMetricNames lists are exported metrics’, and all those the rules read', () => {
    const listed = ruleMetricNames();
    for (const { name, usedIn } of listed) {
      expect(exportedMetrics, `${name} (${usedIn.join(', ')})`).toContain(
        exportedMetrics.has(name) ? name : name.replace(HISTOGRAM_SERIES, ''),
      );
      expect(usedIn.length).toBeGreaterThan(0);
    }
    const metricTokens = expressions.flatMap(({ expr }) =>
      ownIdentifiers(expr).filter(
        (token) =>
          exportedMetrics.has(token) || exportedMetrics.has(token.replace(HISTOGRAM_SERIES, '')),
      ),
    );
    expect(listed.map(({ name }) => name)).toEqual([...new Set(metricTokens)].sort());
  });

  it('reads selectors out of PromQL, leaving labels, functions, strings and ranges out', () => {
    expect(
      selectedNames(
        'sum by (job, le) (rate(task_duration_seconds_bucket{task_outcome=~"a|b"}[5m] anchored))' +
          ' / on (job) group_left () task:task_attempts:rate5m offset 10m > bool 1e3' +
          ' or label_replace(vector(0), "task_name", "x", "", "") unless tasklens_spool_spans_dropped_total',
      ),
    ).toEqual([
      'task_duration_seconds_bucket',
      'task:task_attempts:rate5m',
      'tasklens_spool_spans_dropped_total',
    ]);
  });

  it('catches a name that no package exports', () => {
    expect(ownIdentifiers('sum by (task_name) (rate(task_duraton_seconds_count[5m]))')).toEqual([
      'task_name',
      'task_duraton_seconds_count',
    ]);
    expect(exportedMetrics.has('task_duraton_seconds')).toBe(false);
  });
});
