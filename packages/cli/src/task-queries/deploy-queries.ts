/**
 * The Grafana dashboard's and the recording rules' expressions, rendered from the definitions in
 * ./measures.ts. scripts/generate-dashboard-queries.js writes the dashboard's into
 * deploy/grafana/dashboards/tasklens.json; deploy/test/dashboard.test.ts and
 * deploy/test/recording-rules.test.ts fail while the committed files differ.
 *
 * Both keep tasks apart by job, task_name and task_queue (the dashboard's variables and legends,
 * the alerts' labels), summing over messaging systems; a task row of `tasklens stats` and the
 * console also keeps messaging_system apart.
 * The queue depth panels and rules keep queues apart by task_queue and messaging_system, the
 * largest reading of the processes that poll a queue.
 */
import {
  anchoredRateWindow,
  durationQuantile,
  failureRatio,
  failuresPerSecond,
  growthWindow,
  inFlight,
  lastSuccessAge,
  oldestWaitingAge,
  p95Chain,
  p95Wait,
  QUEUE_LABELS,
  queueDepth,
  runsPerSecond,
  SERVICE_LABEL,
  TASK_NAME_LABEL,
  TASK_OUTCOME_LABEL,
  TASK_QUEUE_LABEL,
} from './measures.js';
import type { LabelMatcher, QueryScope, QueryWindow } from './measures.js';

/** One panel target of the dashboard whose expr is rendered from a definition. */
export interface DashboardExpression {
  panelId: number;
  /** The panel's title, for messages (the panel is found by id). */
  panelTitle: string;
  refId: string;
  expr: string;
}

const BY = [SERVICE_LABEL, TASK_NAME_LABEL, TASK_QUEUE_LABEL];

/** The dashboard's variables, as the panels select with them. */
const GRAFANA_MATCHERS: LabelMatcher[] = BY.map((label) => ({
  label,
  op: '=~',
  value: `$${label}`,
}));

/**
 * The dashboard's charts: each point is the growth over `$__rate_interval` before it (at least
 * four scrape intervals, Grafana's choice), per second divided by `$__rate_interval_ms / 1000`.
 */
const CHART_WINDOW = growthWindow('$__rate_interval', '($__rate_interval_ms / 1000)');

function grafanaScope(window: QueryWindow = CHART_WINDOW): QueryScope {
  return { matchers: GRAFANA_MATCHERS, by: BY, window };
}

/**
 * The rendered expr of every dashboard target that shows a task measure. The panels "Failures per
 * second by error type" (its query selects the bucket series, where the exemplars are) and
 * "Retries per second" (task_retries_total, not a task row measure) keep their own queries.
 * "Time since last success" looks back the dashboard's time range (`$__range`), as
 * `tasklens stats --since` looks back its window.
 */
export function dashboardExpressions(): DashboardExpression[] {
  const chart = grafanaScope();
  const queues: QueryScope = { ...chart, by: QUEUE_LABELS };
  const target = (panelId: number, panelTitle: string, refId: string, expr: string) => ({
    panelId,
    panelTitle,
    refId,
    expr,
  });
  return [
    target(1, 'Finished attempts per second', 'A', runsPerSecond(chart)),
    target(2, 'Failure ratio', 'A', failureRatio(grafanaScope(growthWindow('5m', '300')))),
    target(2, 'Failure ratio', 'B', failureRatio(grafanaScope(growthWindow('1h', '3600')))),
    target(4, 'Duration p50 / p95 / p99', 'A', durationQuantile(0.5, chart)),
    target(4, 'Duration p50 / p95 / p99', 'B', durationQuantile(0.95, chart)),
    target(4, 'Duration p50 / p95 / p99', 'C', durationQuantile(0.99, chart)),
    target(5, 'Queue wait p95', 'A', p95Wait(chart)),
    target(6, 'In flight', 'A', inFlight(chart)),
    target(
      7,
      'Time since last success',
      'A',
      lastSuccessAge(grafanaScope(growthWindow('$__range', '$__range_s'))),
    ),
    target(9, 'Chain latency p95', 'A', p95Chain(chart)),
    target(11, 'Tasks waiting per queue', 'A', queueDepth('waiting', queues)),
    target(12, 'Oldest waiting task', 'A', oldestWaitingAge(queues)),
    target(13, 'Active, delayed and given-up tasks per queue', 'A', queueDepth('active', queues)),
    target(13, 'Active, delayed and given-up tasks per queue', 'B', queueDepth('delayed', queues)),
    target(13, 'Active, delayed and given-up tasks per queue', 'C', queueDepth('failed', queues)),
  ];
}

/**
 * The expr of each recording rule in deploy/prometheus/rules/tasklens-recording.yml that computes
 * a task measure, by record name. The rules use Prometheus 3's anchored rates over 5m and 1h
 * ({@link anchoredRateWindow}), evaluated every interval for the alerts; the rules not listed
 * carry state from one evaluation to the next (task:task_last_success_seconds:max remembers a
 * success for 35 days, task:task_no_completion_since_seconds its own previous value), which no
 * query over a window can express, or are no task row measure (task:task_retries:rate5m).
 */
export function recordingRuleExpressions(): Record<string, string> {
  const scope = (range: string, by: string[] = BY): QueryScope => ({
    matchers: [],
    by,
    window: anchoredRateWindow(range),
  });
  return {
    'task_outcome:task_attempts:rate5m': runsPerSecond(scope('5m', [...BY, TASK_OUTCOME_LABEL])),
    'task:task_attempts:rate5m': runsPerSecond(scope('5m')),
    'task:task_attempts:rate1h': runsPerSecond(scope('1h')),
    'task:task_failures:rate5m': failuresPerSecond(scope('5m')),
    'task:task_failures:rate1h': failuresPerSecond(scope('1h')),
    'task:task_failure_ratio:rate5m': failureRatio(scope('5m')),
    'task:task_failure_ratio:rate1h': failureRatio(scope('1h')),
    'task:task_duration_seconds:p50_5m': durationQuantile(0.5, scope('5m')),
    'task:task_duration_seconds:p95_5m': durationQuantile(0.95, scope('5m')),
    'task:task_duration_seconds:p99_5m': durationQuantile(0.99, scope('5m')),
    'task:task_wait_duration_seconds:p95_5m': p95Wait(scope('5m')),
    'task:task_pipeline_duration_seconds:p95_5m': p95Chain(scope('5m')),
    'task:task_active:sum': inFlight(scope('5m')),
    'task_queue:task_attempts:rate5m': runsPerSecond(scope('5m', [...QUEUE_LABELS])),
    'task_queue:task_queue_waiting:max': queueDepth('waiting', scope('5m', [...QUEUE_LABELS])),
    'task_queue:task_queue_oldest_waiting_age_seconds:max': oldestWaitingAge(
      scope('5m', [...QUEUE_LABELS]),
    ),
  };
}
