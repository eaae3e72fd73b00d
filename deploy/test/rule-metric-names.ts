/*
 * The metric names the alert and recording rules (deploy/prometheus/rules) and the Grafana
 * dashboard (deploy/grafana/dashboards/tasklens.json) read, so that a test of a path from a
 * process to Prometheus (OTLP, remote write, pull) can ask Prometheus for each one.
 *
 * @example
 * for (const { name, usedIn } of ruleMetricNames()) {
 *   expect(await seriesCount(name), `${name}, read by ${usedIn.join(', ')}`).toBeGreaterThan(0);
 * }
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { dashboardQueries } from '@tasklens/test-utils';
import { REPO_DIR } from './run-tool.js';

const RULES_DIR = join(REPO_DIR, 'deploy/prometheus/rules');
const DASHBOARD_FILE = 'deploy/grafana/dashboards/tasklens.json';

/** One PromQL expression of a rule file or of the dashboard. */
export interface RuleExpression {
  /** The file: a rule file's name (`tasklens-alerts.yml`) or `tasklens.json`. */
  readonly file: string;
  /** The rule it belongs to (the recorded name or the alert) or `panel "<title>"`. */
  readonly where: string;
  readonly expr: string;
}

/** A series name the rules or the dashboard read, and where. */
export interface RuleMetricName {
  /** The name of the series as Prometheus stores it (`task_duration_seconds_bucket`). */
  readonly name: string;
  /** Each rule (`TaskRunFailed`) or panel (`panel "Failure ratio"`) that reads it, once. */
  readonly usedIn: readonly string[];
}

interface RuleFile {
  groups: { rules: { record?: string; alert?: string; expr: string }[] }[];
}

function rules(): { file: string; rule: RuleFile['groups'][number]['rules'][number] }[] {
  return readdirSync(RULES_DIR)
    .filter((file) => file.endsWith('.yml'))
    .sort()
    .flatMap((file) =>
      (load(readFileSync(join(RULES_DIR, file), 'utf8')) as RuleFile).groups.flatMap((group) =>
        group.rules.map((rule) => ({ file, rule })),
      ),
    );
}

/** Every expression of the rule files and of the dashboard (its variables matching all). */
export function ruleExpressions(): RuleExpression[] {
  const dashboard: unknown = JSON.parse(readFileSync(join(REPO_DIR, DASHBOARD_FILE), 'utf8'));
  return [
    ...rules().map(({ file, rule }) => ({
      file,
      where: rule.record ?? rule.alert ?? '?',
      expr: rule.expr,
    })),
    ...dashboardQueries(dashboard).map((query) => ({
      file: 'tasklens.json',
      where: `panel "${query.panelTitle}"`,
      expr: query.expr,
    })),
  ];
}

/** The names the recording rules record (`task:task_failure_ratio:rate5m`, …). */
export function recordedNames(): Set<string> {
  return new Set(rules().flatMap(({ rule }) => (rule.record === undefined ? [] : [rule.record])));
}

/** Words of PromQL that are not series names where they stand alone. */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'anchored',
  'smoothed',
  'inf',
  'nan',
]);

/**
 * The names of the series an expression selects (metrics and recorded rules), read from its text:
 * string literals, label matchers `{…}`, ranges `[…]`, offsets, grouping label lists
 * (`by`, `without`, `on`, `ignoring`, `group_left`, `group_right`) and function calls' names are
 * left out; what remains are selectors.
 */
export function selectedNames(expr: string): string[] {
  const selectors = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}|\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, ' (');
  return (selectors.match(/(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter(
    (word) => !KEYWORDS.has(word),
  );
}

/**
 * The series of tasklens's own metrics (`task_…`, `tasklens_…`) that the rules and the dashboard
 * read, by name, each with the rules and panels that read it. Recorded rules are left out (the
 * rules compute them), and so are the pipeline's own metrics (`up`, `otelcol_…`), which come from
 * Prometheus's scrapes of the collector, not from a tasklens process.
 */
export function ruleMetricNames(): RuleMetricName[] {
  const recorded = recordedNames();
  const usedIn = new Map<string, Set<string>>();
  for (const { where, expr } of ruleExpressions()) {
    for (const name of selectedNames(expr)) {
      if (recorded.has(name) || !/^task(lens)?_/.test(name)) continue;
      usedIn.set(name, (usedIn.get(name) ?? new Set()).add(where));
    }
  }
  return [...usedIn]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, where]) => ({ name, usedIn: [...where] }));
}
