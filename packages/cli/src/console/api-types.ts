/**
 * What the console's server answers on `/api/...`, read by its page (packages/cli/console-app).
 * Types only: the page imports them with `import type`, so nothing of the server is bundled.
 *
 * Every number is `null` where the backend has no data for it. Times are Unix milliseconds.
 */

/** The backends the console reads. */
export type BackendName = 'prometheus' | 'jaeger' | 'alertmanager';

/**
 * A backend that did not answer: the body of every `/api` answer with status 502 (unreachable
 * or failing backend) or 404 (a trace Jaeger does not hold).
 */
export interface BackendProblem {
  backend: BackendName;
  /** The URL the console read. */
  url: string;
  /** What went wrong, in a sentence. */
  message: string;
  /** What to do about it, e.g. `start the stack: tasklens stack up`. */
  hint: string;
}

export interface ProblemBody {
  problem: BackendProblem;
}

/** `GET /api/backends`: where each backend is and whether it answers now. */
export interface BackendsBody {
  backends: {
    name: BackendName;
    url: string;
    up: boolean;
    /** Set when `up` is false. */
    problem?: BackendProblem;
  }[];
}

/** Ranges the pages offer; the `range` query parameter of every `/api` call takes one. */
export const CONSOLE_RANGES = ['15m', '1h', '6h', '24h', '7d'] as const;
export type ConsoleRange = (typeof CONSOLE_RANGES)[number];

/** One task: a task name run by one service on one queue of one messaging system. */
export interface TaskKey {
  /** service.name (Prometheus `job`). */
  service: string;
  task: string;
  /** Empty for in-process tasks and scripts. */
  queue: string;
  /** messaging.system, e.g. `bullmq`, `rabbitmq`, `nats`; empty for in-process tasks. */
  system: string;
}

/** One row of the tasks page: the same numbers `tasklens stats --json` prints for the range. */
export interface TaskRow extends TaskKey {
  runs: number | null;
  ratePerSecond: number | null;
  failurePercent: number | null;
  p50DurationSeconds: number | null;
  p95DurationSeconds: number | null;
  p95WaitSeconds: number | null;
  p95PipelineSeconds: number | null;
  /** Attempts in flight now. */
  inFlight: number | null;
  lastSuccessAgeSeconds: number | null;
  /**
   * Tasks waiting in the row's queue now (queue and messaging system), the largest reading of the
   * processes that poll it; null where no process reports queue depth for it.
   */
  waiting: number | null;
  /** Seconds the oldest waiting task of the row's queue has waited; null where not reported. */
  oldestWaitingAgeSeconds: number | null;
}

/** `GET /api/tasks?range=1h`. */
export interface TasksBody {
  range: ConsoleRange;
  /** When the numbers were read (Unix ms). */
  at: number;
  tasks: TaskRow[];
}

/**
 * `GET /api/tasks/series?range=1h&service=S&task=T&queue=Q&system=Y`: the charts of one task,
 * columns aligned on `timestamps` (Unix seconds), as the chart library takes them.
 */
export interface TaskSeriesBody {
  range: ConsoleRange;
  task: TaskKey;
  /** Seconds between points. */
  stepSeconds: number;
  timestamps: number[];
  /** Attempts per second, all outcomes. */
  runsPerSecond: (number | null)[];
  /** Failed attempts (failure, timeout, lost) per second. */
  failuresPerSecond: (number | null)[];
  p50DurationSeconds: (number | null)[];
  p95DurationSeconds: (number | null)[];
  p95WaitSeconds: (number | null)[];
}

/** One failure group: the failed attempts of one task with one `error.type`. */
export interface FailureGroup extends TaskKey {
  /** `failure` or `timeout`. */
  outcome: string;
  /** error.type, `_OTHER` where the attempt gave none. */
  errorType: string;
  /** Failed attempts in the range (Prometheus: task_duration_seconds_count). */
  count: number;
  /** First and last time the count grew in the range, to the query step (Unix ms). */
  firstSeen: number | null;
  lastSeen: number | null;
  /** The newest failing trace of the group found (exemplar, else Jaeger), if any. */
  latestTraceId: string | null;
  /** Its exception message, when it came from Jaeger. */
  latestMessage: string | null;
}

/** `GET /api/failures?range=1h[&service=S][&task=T][&queue=Q][&outcome=failure|timeout|lost]`. */
export interface FailuresBody {
  range: ConsoleRange;
  at: number;
  /** Sorted by count, largest first. */
  groups: FailureGroup[];
  /** Set when Jaeger could not be read for examples; the counts still stand. */
  examplesProblem?: BackendProblem;
}

export interface TraceSpanEvent {
  name: string;
  /** Unix microseconds. */
  timeUs: number;
  attributes: [string, string][];
}

/** One span of a trace, as the trace page draws it. */
export interface TraceSpan {
  spanId: string;
  /** The span it is a child of (CHILD_OF), else null. */
  parentSpanId: string | null;
  /** Spans it links to (FOLLOWS_FROM, span links): another attempt's producer, a chain's parent. */
  linkedSpanIds: string[];
  name: string;
  service: string;
  /** producer, consumer, internal, client, server. */
  kind: string;
  /** Unix microseconds. */
  startUs: number;
  durationUs: number;
  status: 'ok' | 'error' | 'unset';
  statusMessage: string | null;
  attributes: [string, string][];
  events: TraceSpanEvent[];
  /** Task fields, when the span is a task attempt or a send. */
  taskName: string | null;
  attempt: number | null;
  retrying: boolean;
  outcome: string | null;
}

/** `GET /api/traces/<32 hex>`. 404 with a {@link ProblemBody} when Jaeger does not hold it. */
export interface TraceBody {
  traceId: string;
  /** In start order. */
  spans: TraceSpan[];
  /** From the first span's start to the last span's end, in microseconds. */
  durationUs: number;
  /** The largest task.pipeline chain latency among its attempts, in seconds, where known. */
  chainLatencySeconds: number | null;
}

export interface ConsoleAlert {
  /** alertname, e.g. TaskRunFailed. */
  name: string;
  /** active, suppressed, unprocessed. */
  state: string;
  severity: string;
  summary: string;
  description: string;
  labels: [string, string][];
  /** Unix ms. */
  startsAt: number;
  /** The task it is about, when its labels name one (task_name, job, task_queue). */
  task: Partial<TaskKey> | null;
}

/** `GET /api/alerts`. */
export interface AlertsBody {
  at: number;
  alerts: ConsoleAlert[];
}
