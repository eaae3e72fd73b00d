/**
 * The one PromQL definition of each task measure. `tasklens stats`, the console (`tasklens ui`),
 * the Grafana dashboard and the recording rules render their queries from these functions, so a
 * change to how a measure is computed (which outcomes are failures, which quantile, which labels a
 * task row is kept apart by) happens here; deploy/test/dashboard.test.ts and
 * deploy/test/recording-rules.test.ts fail while the committed dashboard or rules differ.
 *
 * A measure is a function of a {@link QueryScope}: the label filter, the grouping, and the
 * {@link QueryWindow} its counters grow over.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_QUEUE,
  prometheusLabel,
  TASK_METRICS,
} from '@tasklens/core';

/** The Prometheus label of the service: the collector turns service.name into `job`. */
export const SERVICE_LABEL = 'job';
export const TASK_NAME_LABEL = prometheusLabel(ATTR_TASK_NAME);
export const TASK_QUEUE_LABEL = prometheusLabel(ATTR_TASK_QUEUE);
export const MESSAGING_SYSTEM_LABEL = prometheusLabel(ATTR_MESSAGING_SYSTEM);
export const TASK_OUTCOME_LABEL = prometheusLabel(ATTR_TASK_OUTCOME);
export const ERROR_TYPE_LABEL = prometheusLabel(ATTR_ERROR_TYPE);

/**
 * The outcomes that count as failed attempts (`lost`: the attempt's process died, found at the
 * redelivery). Cancelled attempts count on neither side of ratios.
 */
export const FAILED_OUTCOMES = ['failure', 'timeout', 'lost'] as const;

/** One task: what a task row is kept apart by (service, task name, queue, messaging system). */
export const TASK_ROW_LABELS = [
  SERVICE_LABEL,
  TASK_NAME_LABEL,
  TASK_QUEUE_LABEL,
  MESSAGING_SYSTEM_LABEL,
] as const;

/**
 * The labels each metric carries besides its outcome and error type: task_active and
 * task_pipeline_duration_seconds have no messaging_system, task_last_success_seconds is kept per
 * service and task name only. A measure drops the matchers and grouping labels its metric lacks.
 */
const LABELS_OF = {
  duration: TASK_ROW_LABELS,
  wait: TASK_ROW_LABELS,
  pipeline: [SERVICE_LABEL, TASK_NAME_LABEL, TASK_QUEUE_LABEL],
  active: [SERVICE_LABEL, TASK_NAME_LABEL, TASK_QUEUE_LABEL],
  lastSuccess: [SERVICE_LABEL, TASK_NAME_LABEL],
  queue: [TASK_QUEUE_LABEL, MESSAGING_SYSTEM_LABEL],
} as const satisfies Record<string, readonly string[]>;

const TASK_LABELS: readonly string[] = TASK_ROW_LABELS;

/**
 * The labels a measure on `metric` is grouped by when asked for `by`: `by` without the task labels
 * the metric lacks.
 */
export function measureLabels(metric: keyof typeof LABELS_OF, by: readonly string[]): string[] {
  const own: readonly string[] = LABELS_OF[metric];
  return by.filter((label) => own.includes(label) || !TASK_LABELS.includes(label));
}

/** A label matcher, e.g. `{ label: 'task_name', op: '=', value: 'backup' }`. */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  /** The value as written between the quotes; Grafana variables such as `$job` are kept as is. */
  value: string;
}

/**
 * How a window's counters grow. Quantiles and ratios use {@link QueryWindow.growth}, where any
 * fixed multiple of the growth gives the same answer; runs use it as a count.
 */
export interface QueryWindow {
  /** PromQL: how much the cumulative `series` grew over the window. */
  growth(series: string): string;
  /** PromQL: the growth per second. */
  perSecond(series: string): string;
  /** PromQL range of the window, for `max_over_time` of gauges, e.g. `3600s`. */
  range: string;
}

/** Where a measure is evaluated: which series, kept apart by which labels, over which window. */
export interface QueryScope {
  matchers: readonly LabelMatcher[];
  /** Grouping labels; a measure whose metric lacks one of the task labels leaves it out. */
  by: readonly string[];
  window: QueryWindow;
}

/**
 * How much a cumulative series grew within the window, counting series born inside it from zero.
 * Every process reports its own series (service.instance.id), so a short-lived one, such as a
 * `tasklens run`, leaves a single sample: `increase()` would count it as nothing.
 */
export function growth(series: string, range: string): string {
  return `((last_over_time(${series}[${range}]) - ${series} offset ${range}) or last_over_time(${series}[${range}]))`;
}

/**
 * The window of `tasklens stats`, the console and the dashboard: {@link growth} over `range`, per
 * second divided by `seconds` (a PromQL number: `3600`, or `($__rate_interval_ms / 1000)` in
 * Grafana). Works on Prometheus and on the metrics store's query API alike.
 */
export function growthWindow(range: string, seconds: string): QueryWindow {
  return {
    range,
    growth: (series) => growth(series, range),
    perSecond: (series) => `${growth(series, range)} / ${seconds}`,
  };
}

/** {@link growthWindow} of a number of seconds, e.g. `secondsWindow(3600)` for the last hour. */
export function secondsWindow(seconds: number): QueryWindow {
  return growthWindow(`${seconds}s`, String(seconds));
}

/**
 * The window of the recording rules: Prometheus 3's anchored `rate(series[range] anchored)`, the
 * growth from the last sample at or before the window's start to the last one in it, per second
 * (the metrics store's rule variant rewrites it into exactly `growth(series, range) / seconds`,
 * packages/stack/src/store-rules.ts). Quantiles and ratios take the rate as their growth.
 */
export function anchoredRateWindow(range: string): QueryWindow {
  const rate = (series: string): string => `rate(${series}[${range}] anchored)`;
  return { range, growth: rate, perSecond: rate };
}

function selector(
  metric: string,
  matchers: readonly LabelMatcher[],
  labels: readonly string[],
  extra: readonly LabelMatcher[] = [],
): string {
  const kept = [...extra, ...matchers].filter((matcher) => labels.includes(matcher.label));
  if (kept.length === 0) return metric;
  return `${metric}{${kept.map((matcher) => `${matcher.label}${matcher.op}"${matcher.value}"`).join(', ')}}`;
}

function sumBy(labels: readonly string[], expression: string): string {
  return `sum by (${labels.join(', ')}) (${expression})`;
}

const FAILED: LabelMatcher = {
  label: TASK_OUTCOME_LABEL,
  op: '=~',
  value: FAILED_OUTCOMES.join('|'),
};
const NOT_CANCELLED: LabelMatcher = { label: TASK_OUTCOME_LABEL, op: '!=', value: 'cancelled' };
const DURATION_LABELS: readonly string[] = [
  ...LABELS_OF.duration,
  TASK_OUTCOME_LABEL,
  ERROR_TYPE_LABEL,
];

function attemptCount(
  scope: QueryScope,
  extra: readonly LabelMatcher[],
  perSecond: boolean,
): string {
  const series = selector(
    `${TASK_METRICS.duration.prometheusName}_count`,
    scope.matchers,
    DURATION_LABELS,
    extra,
  );
  return sumBy(
    measureLabels('duration', scope.by),
    perSecond ? scope.window.perSecond(series) : scope.window.growth(series),
  );
}

/** Finished attempts (all outcomes) in the window. */
export function runs(scope: QueryScope): string {
  return attemptCount(scope, [], false);
}

/** Finished attempts (all outcomes) per second. */
export function runsPerSecond(scope: QueryScope): string {
  return attemptCount(scope, [], true);
}

/** Failed attempts (outcome failure, timeout or lost) per second; 0, not absent, while none failed. */
export function failuresPerSecond(scope: QueryScope): string {
  return `${attemptCount(scope, [FAILED], true)} or ${attemptCount(scope, [], true)} * 0`;
}

/**
 * Failed attempts over finished ones, cancelled attempts left out of both sides; 0 while none
 * failed, absent while no attempt finished.
 */
export function failureRatio(scope: QueryScope): string {
  const failed = attemptCount(scope, [FAILED], false);
  const all = attemptCount(scope, [], false);
  const counted = attemptCount(scope, [NOT_CANCELLED], false);
  return `(${failed} or ${all} * 0) / (${counted} > 0)`;
}

/** {@link failureRatio} in percent. */
export function failurePercent(scope: QueryScope): string {
  return `100 * ${failureRatio(scope)}`;
}

/**
 * Failed attempts in the window by outcome and error type: the grouping is `scope.by` plus
 * task_outcome and error_type.
 */
export function failedAttemptsByError(scope: QueryScope): string {
  return attemptCount(
    { ...scope, by: [...scope.by, TASK_OUTCOME_LABEL, ERROR_TYPE_LABEL] },
    [FAILED],
    false,
  );
}

function quantile(
  q: number,
  metric: 'duration' | 'wait' | 'pipeline',
  histogram: string,
  scope: QueryScope,
): string {
  const bucket = selector(`${histogram}_bucket`, scope.matchers, LABELS_OF[metric]);
  return `histogram_quantile(${q}, ${sumBy([...measureLabels(metric, scope.by), 'le'], scope.window.growth(bucket))})`;
}

/** Quantile `q` (e.g. 0.95) of attempt durations, all outcomes; NaN while none finished. */
export function durationQuantile(q: number, scope: QueryScope): string {
  return quantile(q, 'duration', TASK_METRICS.duration.prometheusName, scope);
}

/** 95th percentile of the time tasks waited in their queue. */
export function p95Wait(scope: QueryScope): string {
  return quantile(0.95, 'wait', TASK_METRICS.waitDuration.prometheusName, scope);
}

/**
 * 95th percentile of chain latency: first enqueue of the task's chain to the end of its attempts
 * (task_pipeline_duration_seconds; no messaging_system label).
 */
export function p95Chain(scope: QueryScope): string {
  return quantile(0.95, 'pipeline', TASK_METRICS.pipelineDuration.prometheusName, scope);
}

/** Attempts in flight now (task_active; no messaging_system label). The window is not used. */
export function inFlight(scope: QueryScope): string {
  return sumBy(
    measureLabels('active', scope.by),
    selector(TASK_METRICS.active.prometheusName, scope.matchers, LABELS_OF.active),
  );
}

/**
 * Seconds since the latest successful attempt seen in the window (task_last_success_seconds,
 * kept per job and task name only).
 */
export function lastSuccessAge(scope: QueryScope): string {
  const gauge = selector(
    TASK_METRICS.lastSuccess.prometheusName,
    scope.matchers,
    LABELS_OF.lastSuccess,
  );
  const by = measureLabels('lastSuccess', scope.by);
  return `time() - max by (${by.join(', ')}) (max_over_time(${gauge}[${scope.window.range}]))`;
}

/**
 * The queue depth gauges (Prometheus names): what a broker holds for one queue now, polled by every
 * process that instruments the queue and labelled task_queue and messaging_system (plus the
 * reporting process's job and instance). Not every broker has every state: BullMQ reports all but
 * consumers, RabbitMQ waiting and consumers, JetStream waiting, active and the oldest's age.
 */
export const QUEUE_DEPTH_METRICS = {
  waiting: TASK_METRICS.queueWaiting.prometheusName,
  active: TASK_METRICS.queueActive.prometheusName,
  delayed: TASK_METRICS.queueDelayed.prometheusName,
  failed: TASK_METRICS.queueFailed.prometheusName,
  consumers: TASK_METRICS.queueConsumers.prometheusName,
  oldestWaitingAge: TASK_METRICS.queueOldestWaitingAge.prometheusName,
} as const;

/** A queue state with a depth gauge. */
export type QueueState = Exclude<keyof typeof QUEUE_DEPTH_METRICS, 'oldestWaitingAge'>;

/** One queue: what its depth is kept apart by (not job: producers and workers report it alike). */
export const QUEUE_LABELS = LABELS_OF.queue;

/**
 * The largest value any process reports now for each queue: several processes poll the same
 * queue, so their readings are alternatives, never summed. Grouped by task_queue and
 * messaging_system at most; matchers on other labels are left out. The window is not used.
 */
function queueGauge(metric: string, scope: QueryScope): string {
  const own: readonly string[] = QUEUE_LABELS;
  const by = scope.by.filter((label) => own.includes(label));
  return `max by (${by.join(', ')}) (${selector(metric, scope.matchers, LABELS_OF.queue)})`;
}

/**
 * Tasks in `state` in each queue now (task_queue_waiting, …_active, …_delayed, …_failed,
 * …_consumers for consumers), the largest reading of the processes that poll it; absent for a
 * broker without that state.
 */
export function queueDepth(state: QueueState, scope: QueryScope): string {
  return queueGauge(QUEUE_DEPTH_METRICS[state], scope);
}

/**
 * Seconds the oldest waiting task of each queue has waited (BullMQ, JetStream; 0 while none
 * waits), the largest reading of the processes that poll it.
 */
export function oldestWaitingAge(scope: QueryScope): string {
  return queueGauge(QUEUE_DEPTH_METRICS.oldestWaitingAge, scope);
}

/** The bucket series of failed attempts (outcome failure, timeout or lost) the matchers select. */
export function failedAttemptBuckets(matchers: readonly LabelMatcher[]): string {
  return selector(`${TASK_METRICS.duration.prometheusName}_bucket`, matchers, DURATION_LABELS, [
    FAILED,
  ]);
}
