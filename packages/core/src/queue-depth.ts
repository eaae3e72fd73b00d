import {
  context,
  createContextKey,
  createNoopMeter,
  diag,
  metrics,
  ROOT_CONTEXT,
  ValueType,
} from '@opentelemetry/api';
import type { MeterProvider, ObservableResult } from '@opentelemetry/api';
import { LimitedWarning } from './limited-warning.js';
import { TASK_METRICS } from './metric-names.js';
import type { TaskMetricName } from './metric-names.js';
import { ATTR_MESSAGING_SYSTEM, ATTR_TASK_QUEUE } from './semconv.js';
import { SCOPE_NAME, SCOPE_VERSION } from './version.js';

/**
 * What one poll of a broker says about one queue. A field the broker cannot tell stays
 * undefined and its gauge has no point for the queue; a queue with nothing waiting says 0.
 */
export interface QueueDepth {
  /** Tasks waiting for a worker (`task.queue.waiting`). */
  waiting?: number;
  /** Tasks a worker holds and has not finished (`task.queue.active`). */
  active?: number;
  /** Tasks scheduled for later (`task.queue.delayed`). */
  delayed?: number;
  /** Tasks kept as failed (`task.queue.failed`). */
  failed?: number;
  /** Seconds since the oldest waiting task became due (`task.queue.oldest_waiting_age`). */
  oldestWaitingAgeSeconds?: number;
  /** Consumers attached to the queue (`task.queue.consumers`). */
  consumers?: number;
}

/**
 * How an adapter reads one queue's depth from its broker. Opened on the first poll (never while
 * no meter provider is registered), used once per interval.
 */
export interface QueueDepthReader {
  /** One poll: as few broker commands as the broker allows. Rejects when the broker cannot tell. */
  read(): Promise<QueueDepth>;
  /**
   * Whether what the reader polls through is gone for good (the user closed the queue, channel
   * or connection): the queue is then forgotten without a warning, until registered again.
   */
  isClosed?(): boolean;
  /** Releases what the reader opened itself; called when the queue is forgotten. */
  close?(): void;
}

/**
 * The queue depth options every adapter takes on its options object (the same names in every
 * package). Options win over the environment variables (`TASKLENS_QUEUE_DEPTH`,
 * `TASKLENS_QUEUE_DEPTH_INTERVAL_MS`), which win over the defaults.
 */
export interface QueueDepthOptions {
  /**
   * Poll the broker for the depth of the queues this adapter sees and report it as gauges.
   * Default `true` (`TASKLENS_QUEUE_DEPTH=off` turns it off).
   */
  queueDepth?: boolean;
  /**
   * Milliseconds between two polls of one queue, at least 100. Default: the metric export
   * interval when `OTEL_METRIC_EXPORT_INTERVAL` sets it, else 15 000. A queue keeps the interval
   * of the first registration that names it.
   */
  queueDepthIntervalMs?: number;
}

/** The queue depth settings after options, environment and defaults. */
export interface QueueDepthSettings {
  enabled: boolean;
  intervalMs: number;
}

/** The poll interval when neither an option nor a variable sets it (nor the export interval). */
export const DEFAULT_QUEUE_DEPTH_INTERVAL_MS = 15_000;
/** The shortest poll interval accepted. */
export const MIN_QUEUE_DEPTH_INTERVAL_MS = 100;
/** Queues polled at most per process; more are not polled (one warning). */
export const MAX_WATCHED_QUEUES = 1000;

/** The variables read by {@link queueDepthSettings}. */
export const QUEUE_DEPTH_ENV = {
  enabled: 'TASKLENS_QUEUE_DEPTH',
  intervalMs: 'TASKLENS_QUEUE_DEPTH_INTERVAL_MS',
  exportIntervalMs: 'OTEL_METRIC_EXPORT_INTERVAL',
} as const;

type Environment = Readonly<Record<string, string | undefined>>;

const ON_VALUES = new Set(['on', 'true', '1']);
const OFF_VALUES = new Set(['off', 'false', '0']);

/** Bad settings are said once each per process, not at every registration. */
const saidBadSettings = new Set<string>();

function badSetting(name: string, value: unknown, expected: string, fallback: unknown): void {
  const key = `${name}=${String(value)}`;
  if (saidBadSettings.has(key)) return;
  saidBadSettings.add(key);
  diag.warn(
    `tasklens: ${name} is ${JSON.stringify(value)}, not ${expected}; ` +
      `using ${String(fallback)} for queue depth`,
  );
}

function parseInterval(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof number === 'number' &&
    Number.isSafeInteger(number) &&
    number >= MIN_QUEUE_DEPTH_INTERVAL_MS
    ? number
    : undefined;
}

function defaultInterval(env: Environment): number {
  const exportInterval = env[QUEUE_DEPTH_ENV.exportIntervalMs];
  if (exportInterval === undefined || exportInterval.trim() === '') {
    return DEFAULT_QUEUE_DEPTH_INTERVAL_MS;
  }
  // The SDK's own variable: its bad values are the SDK's to report.
  return parseInterval(exportInterval) ?? DEFAULT_QUEUE_DEPTH_INTERVAL_MS;
}

function resolveEnabled(options: QueueDepthOptions, env: Environment): boolean {
  if (options.queueDepth !== undefined) {
    if (typeof options.queueDepth === 'boolean') return options.queueDepth;
    badSetting('the queueDepth option', options.queueDepth, 'true or false', 'the variable or on');
  }
  const variable = env[QUEUE_DEPTH_ENV.enabled];
  if (variable === undefined || variable.trim() === '') return true;
  const value = variable.trim().toLowerCase();
  if (ON_VALUES.has(value)) return true;
  if (OFF_VALUES.has(value)) return false;
  badSetting(QUEUE_DEPTH_ENV.enabled, variable, 'on or off', 'on');
  return true;
}

function resolveInterval(options: QueueDepthOptions, env: Environment): number {
  const expected = `a whole number of milliseconds >= ${MIN_QUEUE_DEPTH_INTERVAL_MS}`;
  let fallback = defaultInterval(env);
  const variable = env[QUEUE_DEPTH_ENV.intervalMs];
  if (variable !== undefined && variable.trim() !== '') {
    const interval = parseInterval(variable);
    if (interval === undefined)
      badSetting(QUEUE_DEPTH_ENV.intervalMs, variable, expected, `${fallback} ms`);
    else fallback = interval;
  }
  if (options.queueDepthIntervalMs === undefined) return fallback;
  const interval = parseInterval(options.queueDepthIntervalMs);
  if (interval !== undefined) return interval;
  badSetting(
    'the queueDepthIntervalMs option',
    options.queueDepthIntervalMs,
    expected,
    `${fallback} ms`,
  );
  return fallback;
}

/**
 * The queue depth settings of one registration: options over `TASKLENS_QUEUE_DEPTH` (`on` or
 * `off`, default on) and `TASKLENS_QUEUE_DEPTH_INTERVAL_MS` over the defaults. A bad value is
 * said once through `diag.warn` and the next source (finally the default) is used.
 */
export function queueDepthSettings(
  options: QueueDepthOptions = {},
  env: Environment = process.env,
): QueueDepthSettings {
  return { enabled: resolveEnabled(options, env), intervalMs: resolveInterval(options, env) };
}

/** The polls of one queue so far (for tests and benchmarks of the adapters). */
export interface QueueDepthPollCount {
  system: string;
  queue: string;
  intervalMs: number;
  /** Polls started. */
  polls: number;
  /** Polls that failed (their interval reported no depth for the queue). */
  failures: number;
}

interface Reading {
  depth: QueueDepth;
  readAt: number;
}

/**
 * The context key of @opentelemetry/core's `suppressTracing` (a `Symbol.for` of this
 * description, so the same key without depending on an SDK package): the polls' broker commands
 * make no spans in a client instrumentation (ioredis, amqplib), as our own export makes none.
 */
const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');
const UNTRACED = ROOT_CONTEXT.setValue(SUPPRESS_TRACING_KEY, true);

const pollFailed = new LimitedWarning(
  'could not read the depth of a queue; its gauges are left out until a poll succeeds',
);
const tooManyQueues = new LimitedWarning(
  `more than ${MAX_WATCHED_QUEUES} queues to poll for their depth; the others are not polled`,
);
const openFailed = new LimitedWarning('could not start polling the depth of a queue');

class WatchedQueue {
  readonly attributes: Record<string, string>;
  polls = 0;
  failures = 0;
  latest: Reading | undefined;
  private reader: QueueDepthReader | undefined;
  private polling = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly first: ReturnType<typeof setTimeout>;

  constructor(
    readonly system: string,
    readonly queue: string,
    private readonly openReader: () => QueueDepthReader,
    readonly intervalMs: number,
  ) {
    this.attributes = { [ATTR_TASK_QUEUE]: queue, [ATTR_MESSAGING_SYSTEM]: system };
    this.first = setTimeout(() => this.tick(), 0);
    this.first.unref();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** The reading to report now: none when the last poll failed or is older than two intervals. */
  current(now: number): QueueDepth | undefined {
    const latest = this.latest;
    return latest !== undefined && now - latest.readAt <= 2 * this.intervalMs
      ? latest.depth
      : undefined;
  }

  stop(): void {
    clearTimeout(this.first);
    clearInterval(this.timer);
    this.latest = undefined;
    try {
      this.reader?.close?.();
    } catch (error) {
      diag.debug('tasklens: closing a queue depth reader failed', error);
    }
  }

  private tick(): void {
    if (this.polling || !gaugesRegistered()) return;
    if (this.reader?.isClosed?.() === true) {
      forget(this);
      return;
    }
    try {
      this.reader ??= this.openReader();
    } catch (error) {
      openFailed.report(error);
      forget(this);
      return;
    }
    this.polls += 1;
    this.polling = true;
    let reading: Promise<QueueDepth>;
    try {
      const reader = this.reader;
      reading = context.with(UNTRACED, () => reader.read());
    } catch (error) {
      reading = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    reading.then(
      (depth) => {
        this.polling = false;
        this.latest = { depth, readAt: Date.now() };
      },
      (error: unknown) => {
        this.polling = false;
        this.latest = undefined;
        // A reader closed by its user while the poll ran is not a broker problem.
        if (this.reader?.isClosed?.() === true) {
          forget(this);
          return;
        }
        this.failures += 1;
        const reason = error instanceof Error ? error.message : String(error);
        pollFailed.report(`${this.system} queue ${JSON.stringify(this.queue)}: ${reason}`);
      },
    );
  }
}

const watched = new Map<string, WatchedQueue>();

function keyOf(system: string, queue: string): string {
  return `${system}\u0000${queue}`;
}

function forget(watch: WatchedQueue): void {
  watch.stop();
  const key = keyOf(watch.system, watch.queue);
  if (watched.get(key) === watch) watched.delete(key);
}

/**
 * Whether a queue is polled already: the cheap check an adapter makes per task before
 * {@link watchQueueDepth}, so that registering costs one map lookup once it is done.
 */
export function isQueueDepthWatched(system: string, queue: string): boolean {
  return watched.has(keyOf(system, queue));
}

/**
 * Polls one queue's depth from now on, once per interval, for the gauges `task.queue.waiting`,
 * `.active`, `.delayed`, `.failed`, `.oldest_waiting_age` and `.consumers` labelled by
 * `task.queue` and `messaging.system` only. A queue already polled (by system and name) is left
 * as it is; with `queueDepth` off nothing happens. Nothing polls while no meter provider is
 * registered; timers are unref'ed. A failed poll is counted and warned about (at most once a
 * minute), and the queue has no points until a poll succeeds again. Never throws.
 *
 * @param openReader - Called on the first poll to get the broker reader.
 *
 * @example
 * watchQueueDepth('rabbitmq', 'emails', () => ({ read: async () => ({ waiting: 3 }) }));
 */
export function watchQueueDepth(
  system: string,
  queue: string,
  openReader: () => QueueDepthReader,
  options: QueueDepthOptions = {},
): void {
  try {
    const key = keyOf(system, queue);
    if (watched.has(key)) return;
    const settings = queueDepthSettings(options);
    if (!settings.enabled) return;
    if (watched.size >= MAX_WATCHED_QUEUES) {
      tooManyQueues.report();
      return;
    }
    watched.set(key, new WatchedQueue(system, queue, openReader, settings.intervalMs));
  } catch (error) {
    openFailed.report(error);
  }
}

/**
 * Stops polling one queue (or, with no arguments, every queue) and closes its reader; a later
 * registration polls it again. For tests, and for adapters whose source is gone.
 */
export function unwatchQueueDepth(system?: string, queue?: string): void {
  for (const watch of [...watched.values()]) {
    if (
      (system === undefined || watch.system === system) &&
      (queue === undefined || watch.queue === queue)
    ) {
      forget(watch);
    }
  }
}

/** The polls made so far of every queue polled now. */
export function queueDepthPollCounts(): QueueDepthPollCount[] {
  return [...watched.values()].map(({ system, queue, intervalMs, polls, failures }) => ({
    system,
    queue,
    intervalMs,
    polls,
    failures,
  }));
}

type DepthField = keyof QueueDepth;

const GAUGES: ReadonlyArray<{ field: DepthField; metric: TaskMetricName; description: string }> = [
  {
    field: 'waiting',
    metric: TASK_METRICS.queueWaiting,
    description: 'Tasks waiting in the queue for a worker, polled from the broker.',
  },
  {
    field: 'active',
    metric: TASK_METRICS.queueActive,
    description: 'Tasks workers hold and have not finished, polled from the broker.',
  },
  {
    field: 'delayed',
    metric: TASK_METRICS.queueDelayed,
    description: 'Tasks scheduled for later, polled from the broker.',
  },
  {
    field: 'failed',
    metric: TASK_METRICS.queueFailed,
    description: 'Tasks kept as failed by the broker, polled from it.',
  },
  {
    field: 'oldestWaitingAgeSeconds',
    metric: TASK_METRICS.queueOldestWaitingAge,
    description: 'Seconds since the oldest waiting task of the queue became due.',
  },
  {
    field: 'consumers',
    metric: TASK_METRICS.queueConsumers,
    description: 'Consumers attached to the queue, polled from the broker.',
  },
];

function observeField(field: DepthField) {
  return (result: ObservableResult): void => {
    const now = Date.now();
    for (const watch of watched.values()) {
      const value = watch.current(now)?.[field];
      if (typeof value === 'number' && Number.isFinite(value)) {
        result.observe(value, watch.attributes);
      }
    }
  };
}

const NoopMeterClass = createNoopMeter().constructor;

let gaugesOf: { provider: MeterProvider; registered: boolean } | undefined;

/**
 * Whether the gauges exist on the global meter provider: created once per provider, and not
 * at all while no SDK is registered (then nothing polls).
 */
function gaugesRegistered(): boolean {
  const provider = metrics.getMeterProvider();
  if (gaugesOf?.provider !== provider) {
    const meter = provider.getMeter(SCOPE_NAME, SCOPE_VERSION);
    const registered = meter.constructor !== NoopMeterClass;
    if (registered) {
      for (const { field, metric, description } of GAUGES) {
        meter
          .createObservableGauge(metric.name, {
            description,
            unit: metric.unit,
            valueType: field === 'oldestWaitingAgeSeconds' ? ValueType.DOUBLE : ValueType.INT,
          })
          .addCallback(observeField(field));
      }
    }
    gaugesOf = { provider, registered };
  }
  return gaugesOf.registered;
}
