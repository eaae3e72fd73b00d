/* What reached the backends: the workers' `process` spans in Jaeger, attempts and spool counters in Prometheus. */
import type { JaegerTrace } from '../packages/cli/src/jaeger-client.js';
import { PrometheusClient } from '../packages/cli/src/prometheus-client.js';
import type { AttemptRecord } from './run-records.js';

/** service.name of the chaos worker processes (Prometheus `job`). */
export const WORKER_SERVICE = 'chaos-worker';

const LOOKUP_CONCURRENCY = 16;

/** The spool counters of @tasklens/node, as Prometheus names them. */
export const SPOOL_METRICS = {
  spooled: 'tasklens_spool_spans_spooled_total',
  replayed: 'tasklens_spool_spans_replayed_total',
  dropped: 'tasklens_spool_spans_dropped_total',
} as const;

async function workerSpanIds(jaegerUrl: string, traceId: string): Promise<string[]> {
  const response = await fetch(new URL(`/api/traces/${traceId}`, jaegerUrl), {
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return [];
  }
  if (!response.ok) {
    throw new Error(`Jaeger answered ${response.status} for trace ${traceId}`);
  }
  const body = (await response.json()) as { data: JaegerTrace[] | null };
  return (body.data ?? []).flatMap((trace) =>
    trace.spans
      .filter((span) => trace.processes[span.processID]?.serviceName === WORKER_SERVICE)
      .filter((span) => span.operationName.startsWith('process '))
      .map((span) => span.spanID),
  );
}

/**
 * Looks up in Jaeger, trace by trace, the `process` spans of `attempts` not yet in `found`, and
 * adds those Jaeger has to `found` (span ids), so that a later call only asks for the rest.
 * Returns how many traces it looked up.
 */
export async function findWorkerSpans(
  jaegerUrl: string,
  attempts: AttemptRecord[],
  found: Set<string>,
): Promise<number> {
  const traces = [
    ...new Set(
      attempts.filter((attempt) => !found.has(attempt.span)).map((attempt) => attempt.trace),
    ),
  ];
  let next = 0;
  const lookUp = async (): Promise<void> => {
    while (next < traces.length) {
      const traceId = traces[next];
      next += 1;
      for (const spanId of await workerSpanIds(jaegerUrl, traceId)) found.add(spanId);
    }
  };
  await Promise.all(Array.from({ length: LOOKUP_CONCURRENCY }, lookUp));
  return traces.length;
}

/**
 * The attempts the workers ran and ended themselves: the lost ones, which the attempt after a
 * worker's death records for it, are counted apart ({@link RunCounters.lostAttempts}).
 */
function attemptsSelector(queue: string): string {
  return `task_duration_seconds_count{job="${WORKER_SERVICE}",task_queue="${queue}",task_outcome!="lost"}`;
}

function lostSelector(queue: string): string {
  return `task_duration_seconds_count{job="${WORKER_SERVICE}",task_queue="${queue}",task_outcome="lost"}`;
}

/** Reads counters from Prometheus over the whole run, robust to gaps and to stale series. */
export class RunCounters {
  private readonly prometheus: PrometheusClient;

  constructor(
    prometheusUrl: string,
    private readonly runStartedAt: number,
  ) {
    this.prometheus = new PrometheusClient(prometheusUrl);
  }

  /**
   * The sum over series of each series' highest value since the run started (a cumulative
   * counter's last value, even for a process that is gone), evaluated now or at `at` (ms since
   * the epoch); undefined when Prometheus has no such series.
   */
  async total(selector: string, at?: number): Promise<number | undefined> {
    const samples = await this.prometheus.query(
      `sum(max_over_time(${selector}[${this.range(at)}]))`,
      at === undefined ? undefined : new Date(at),
    );
    return samples[0]?.value;
  }

  /** Like {@link total}, per value of `label`. */
  async totalBy(selector: string, label: string): Promise<Map<string, number>> {
    const samples = await this.prometheus.query(
      `sum by (${label}) (max_over_time(${selector}[${this.range()}]))`,
    );
    return new Map(samples.map((sample) => [sample.labels[label] ?? '', sample.value]));
  }

  /** Attempts the chaos workers recorded in `task.duration`, per `service.instance.id`. */
  attemptsByInstance(queue: string): Promise<Map<string, number>> {
    return this.totalBy(attemptsSelector(queue), 'instance');
  }

  /** Attempts on `queue` that died with their worker, as the next attempts recorded them. */
  async lostAttempts(queue: string): Promise<number> {
    return (await this.total(lostSelector(queue))) ?? 0;
  }

  /** The worker's attempts on `queue`, as in {@link attemptsByInstance}, summed. */
  async attempts(queue: string, at?: number): Promise<number> {
    return (await this.total(attemptsSelector(queue), at)) ?? 0;
  }

  private range(at = Date.now()): string {
    return `${Math.ceil((at - this.runStartedAt) / 1000) + 60}s`;
  }
}
