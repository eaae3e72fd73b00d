import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { isTelemetryActive } from '@tasklens/core';
import type { ExpectedErrors, LostAttempt, TraceMode } from '@tasklens/core';
import {
  BoundedMap,
  LimitedWarning,
  resolveTaskName,
  startTaskAttempt,
} from '@tasklens/core/adapter';
import type { TaskAttempt, TaskAttemptOptions } from '@tasklens/core/adapter';
import type { Job, Processor } from 'bullmq';
import { readCarrier } from './job-carrier.js';
import { watchJobQueue } from './queue-depth.js';
import { ATTR_BULLMQ_JOB_SCHEDULER_ID, MESSAGING_SYSTEM_BULLMQ } from './semconv.js';
import type { TaskProcessorOptions } from './types.js';

const traceModeThrew = new LimitedWarning('the traceMode option threw; the default was used');
const startFailed = new LimitedWarning(
  'could not start a task attempt; the job ran uninstrumented',
);

/** Most stalled jobs whose stall count this process remembers (see lostAttemptBefore). */
const MAX_STALLED_JOBS = 10_000;
/** Per stalled job (queue and id): its stall count when an attempt of it last started here. */
const stallsSeen = new BoundedMap<number>(
  MAX_STALLED_JOBS,
  new LimitedWarning(
    `more than ${MAX_STALLED_JOBS} stalled jobs remembered; the oldest was forgotten, and its ` +
      'next start in this process is judged from its counters alone',
  ),
);

type AnyProcessor = Processor<any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type ProcessorJob<P extends AnyProcessor> = Parameters<P>[0];

/** What is read of the worker a job belongs to: its `maxStartedAttempts` and `telemetry`. */
interface JobWithWorker {
  queue?: { opts?: { maxStartedAttempts?: number; telemetry?: unknown } };
}

/** Errors a processor throws to move its job (step jobs, flows, rate limits): not failures. */
const CONTROL_FLOW_ERRORS = new Set(['DelayedError', 'WaitingError', 'WaitingChildrenError']);
const RATE_LIMIT_MESSAGE = 'bullmq:rateLimitExceeded';

function nameOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null
    ? (error as { name?: unknown }).name
    : undefined;
}

function isControlFlowError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  return (
    (typeof name === 'string' && CONTROL_FLOW_ERRORS.has(name)) || message === RATE_LIMIT_MESSAGE
  );
}

function expectedErrorsOf(userExpected: ExpectedErrors | undefined): ExpectedErrors {
  if (userExpected === undefined) return isControlFlowError;
  if (typeof userExpected === 'function') {
    return (error) => isControlFlowError(error) || userExpected(error);
  }
  return (error) =>
    isControlFlowError(error) || userExpected.some((errorClass) => error instanceof errorClass);
}

/** BullMQ's own rule (Job.shouldRetryJob), for the error this attempt failed with. */
function willRetry(job: Job, error: unknown): boolean {
  try {
    if (nameOf(error) === 'UnrecoverableError') return false;
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) return false;
    const maxStartedAttempts = (job as unknown as JobWithWorker).queue?.opts?.maxStartedAttempts;
    return !(
      maxStartedAttempts !== undefined &&
      maxStartedAttempts > 0 &&
      maxStartedAttempts <= job.attemptsStarted
    );
  } catch {
    return false;
  }
}

function traceModeOf<J>(job: Job, option: TaskProcessorOptions<J & Job>['traceMode']): TraceMode {
  if (typeof option === 'function') {
    try {
      const mode = option(job as J & Job);
      if (mode === 'parent' || mode === 'link') return mode;
    } catch (error) {
      traceModeThrew.report(error);
    }
  } else if (option !== undefined) {
    return option;
  }
  return job.repeatJobKey === undefined ? 'parent' : 'link';
}

/**
 * The attempt before this one, when BullMQ's counters show it never ended: the job stalled (its
 * lock expired, the worker that had it died or hung) and was started again. The job counts its
 * starts (`attemptsStarted`), the starts that ended in a failure or a move (`attemptsMade`) and
 * its stalls (`stalledCounter`); a start neither made nor moved since the stall is the lost one.
 * When this process started the job before, a stall count grown since says it; otherwise a start
 * not made. Jobs that never stalled cost one field read.
 */
function lostAttemptBefore(job: Job): LostAttempt | undefined {
  const stalls = job.stalledCounter ?? 0;
  if (!(stalls > 0)) return undefined;
  const started = job.attemptsStarted ?? 0;
  const key = `${job.queueName}\n${job.id}`;
  const seen = stallsSeen.get(key);
  stallsSeen.set(key, stalls);
  const lost = seen === undefined ? started - 1 > (job.attemptsMade ?? 0) : stalls > seen;
  if (!lost || started < 2) return undefined;
  // BullMQ keeps no time of the lost start: the earliest it can have been is when the job was due.
  const dueAt = job.timestamp + (job.opts.delay ?? 0);
  return { attempt: started - 1, cause: 'stalled', startedAt: dueAt };
}

function attemptOptionsOf<J>(
  job: Job,
  options: TaskProcessorOptions<J & Job>,
  expectedErrors: ExpectedErrors,
): TaskAttemptOptions {
  const attemptsMade = job.attemptsMade ?? 0;
  const attemptsStarted = job.attemptsStarted ?? 0;
  // A job started again after a stall (or after moving itself) has more starts than failures.
  const firstStart = attemptsMade === 0 && attemptsStarted <= 1;
  const attemptOptions: TaskAttemptOptions = {
    name: resolveTaskName(options.taskName, job.name, job as J & Job, undefined),
    queue: job.queueName,
    system: MESSAGING_SYSTEM_BULLMQ,
    attempt: Math.max(attemptsStarted, attemptsMade + 1),
    maxAttempts: Math.max(1, job.opts.attempts ?? 1),
    carrier: readCarrier(job.opts, false),
    traceMode: traceModeOf(job, options.traceMode),
    expectedErrors,
  };
  if (job.id !== undefined) attemptOptions.id = job.id;
  const lost = lostAttemptBefore(job);
  if (lost !== undefined) attemptOptions.previousAttemptLost = lost;
  // A delayed job (a scheduler's runs too) waits from when it became due. Retries and restarts
  // after a stall record no wait: BullMQ does not keep when they became due.
  if (firstStart && Number.isFinite(job.timestamp)) {
    attemptOptions.waitStartedAt = job.timestamp + (job.opts.delay ?? 0);
  }
  if (job.repeatJobKey !== undefined) {
    attemptOptions.attributes = { [ATTR_BULLMQ_JOB_SCHEDULER_ID]: job.repeatJobKey };
    // Each run of a scheduler starts its own task chain when it becomes due; the carrier holds
    // the chain of the call that set up the scheduler.
    const dueAt = job.timestamp + (job.opts.delay ?? 0);
    if (Number.isFinite(dueAt)) attemptOptions.pipelineStartedAt = dueAt;
  }
  return attemptOptions;
}

function startAttempt<J>(
  job: Job,
  options: TaskProcessorOptions<J & Job>,
  expectedErrors: ExpectedErrors,
): TaskAttempt | undefined {
  try {
    const attemptOptions = attemptOptionsOf(job, options, expectedErrors);
    // The context active in a worker's loop is the one the Worker was created in (a startup
    // span, a request), not the job's: only BullMQ's own telemetry makes it the job's span.
    if (
      trace.getSpan(context.active()) !== undefined &&
      (job as unknown as JobWithWorker).queue?.opts?.telemetry === undefined
    ) {
      return context.with(ROOT_CONTEXT, startTaskAttempt, undefined, attemptOptions);
    }
    return startTaskAttempt(attemptOptions);
  } catch (error) {
    startFailed.report(error);
    return undefined;
  }
}

function endFailed(attempt: TaskAttempt, job: Job, error: unknown, signal?: AbortSignal): void {
  if (signal?.aborted === true) attempt.cancel();
  else attempt.fail(error, { willRetry: willRetry(job, error) });
}

/** Ends the attempt when the processor's result settles; resolves or rejects as it does. */
async function endWhenSettled(
  attempt: TaskAttempt,
  job: Job,
  signal: AbortSignal | undefined,
  result: unknown,
): Promise<unknown> {
  let value: unknown;
  try {
    value = await result;
  } catch (error) {
    endFailed(attempt, job, error, signal);
    throw error;
  }
  attempt.succeed();
  return value;
}

/**
 * Wraps a BullMQ processor so that every attempt of every job is a task: one CONSUMER span
 * (`process {queue}`) per attempt in the producer's trace (or linked to it), queue wait,
 * duration, outcome, in-flight and retry metrics. The processor's result and errors pass through
 * unchanged, so BullMQ's retries and failed-job bookkeeping work as without it.
 *
 * - `task.name` is the job's name (see `taskName`), `task.attempt` counts the job's starts
 *   (`attemptsStarted`), `task.max_attempts` is `opts.attempts` (default 1).
 * - A failure BullMQ will retry (attempts left, not an `UnrecoverableError`) is marked
 *   `task.retrying` and counted in `task.retries`; the last one is not.
 * - The errors BullMQ processors throw to move a job (`DelayedError`, `WaitingChildrenError`,
 *   `WaitingError`, rate limiting) end the attempt as expected errors, not failures.
 * - Runs of a job scheduler start a new trace linked to the scheduling context.
 * - With no SDK registered it only calls the processor.
 *
 * @example
 * import { Worker } from 'bullmq';
 * import { taskProcessor } from '@tasklens/bullmq';
 *
 * const worker = new Worker(
 *   'emails',
 *   taskProcessor(async (job) => mailer.send(job.data)),
 *   { connection, concurrency: 10 },
 * );
 */
export function taskProcessor<P extends AnyProcessor>(
  processor: P,
  options: TaskProcessorOptions<ProcessorJob<P>> = {},
): P {
  const expectedErrors = expectedErrorsOf(options.expectedErrors);
  const run = (
    self: unknown,
    job: ProcessorJob<P>,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): unknown => {
    if (!isTelemetryActive()) return processor.call(self, job, token, signal);
    watchJobQueue(job, options);
    const attempt = startAttempt(job, options, expectedErrors);
    if (attempt === undefined) return processor.call(self, job, token, signal);
    let result: unknown;
    try {
      result = context.with(attempt.context, processor as AnyProcessor, self, job, token, signal);
    } catch (error) {
      endFailed(attempt, job, error, signal);
      throw error;
    }
    return endWhenSettled(attempt, job, signal, result);
  };
  // BullMQ passes an abort signal (and tracks the job for cancellation) only to processors that
  // declare a third parameter: keep the user's arity.
  const wrapped =
    processor.length >= 3
      ? function (this: unknown, job: ProcessorJob<P>, token?: string, signal?: AbortSignal) {
          return run(this, job, token, signal);
        }
      : function (this: unknown, job: ProcessorJob<P>, token?: string) {
          return run(this, job, token, undefined);
        };
  return wrapped as P;
}
