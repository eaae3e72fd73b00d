import { context } from '@opentelemetry/api';
import { startNumberedTaskAttempt } from './task-attempt.js';
import type { TaskAttempt } from './task-attempt.js';
import { isExpectedError, TaskTimeoutError } from './task-errors.js';
import { isTelemetryActive } from './telemetry-active.js';
import type { RunTaskAttemptOptions, RunTaskOptions, TaskContext } from './types.js';
import { NEVER_ABORTED, NON_RECORDING_SPAN } from './uninstrumented.js';

/** The attempt's signal: aborted by the caller's signal or by the timeout, whichever is first. */
interface AttemptSignal {
  signal: AbortSignal;
  timedOut: () => boolean;
  dispose: () => void;
}

const neverTimedOut = (): boolean => false;
const nothingToDispose = (): void => undefined;
const UNBOUNDED: AttemptSignal = {
  signal: NEVER_ABORTED,
  timedOut: neverTimedOut,
  dispose: nothingToDispose,
};

function attemptSignal(options: RunTaskOptions): AttemptSignal {
  const { signal, timeoutMs } = options;
  if (timeoutMs === undefined) {
    if (signal === undefined) return UNBOUNDED;
    return { signal, timedOut: neverTimedOut, dispose: nothingToDispose };
  }
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted === true) controller.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  // A ref'd timer on purpose: the caller is waiting for this deadline. It is cleared at the end.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new TaskTimeoutError(timeoutMs));
  }, timeoutMs);
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal === NEVER_ABORTED) return work;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function backoffMs(options: RunTaskOptions, failedAttempt: number): number {
  const { backoff } = options;
  if (backoff === undefined) return 0;
  try {
    const ms = typeof backoff === 'function' ? backoff(failedAttempt) : backoff;
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  } catch {
    return 0;
  }
}

function willRetryAfter(options: RunTaskOptions, error: unknown, retriesLeft: boolean): boolean {
  if (retriesLeft) return true;
  const { willRetry } = options;
  if (typeof willRetry !== 'function') return willRetry === true;
  try {
    return willRetry(error) === true;
  } catch {
    return false;
  }
}

async function runAttempt<T>(
  options: RunTaskAttemptOptions,
  attemptNumber: number,
  retriesLeft: boolean,
  instrumented: boolean,
  fn: (task: TaskContext) => Promise<T> | T,
): Promise<T> {
  const attempt: TaskAttempt | undefined = instrumented
    ? startNumberedTaskAttempt(options, attemptNumber)
    : undefined;
  const { signal, timedOut, dispose } = attemptSignal(options);
  const task: TaskContext = {
    signal,
    attempt: attemptNumber,
    span: attempt?.span ?? NON_RECORDING_SPAN,
  };
  try {
    const work =
      attempt === undefined
        ? Promise.resolve(fn(task))
        : context.with(attempt.context, () => Promise.resolve(fn(task)));
    const result = await untilAborted(work, signal);
    attempt?.succeed();
    return result;
  } catch (error) {
    if (timedOut()) {
      attempt?.timeOut(signal.reason, { willRetry: retriesLeft });
      throw signal.reason;
    }
    if (options.signal?.aborted === true) attempt?.cancel();
    else attempt?.fail(error, { willRetry: willRetryAfter(options, error, retriesLeft) });
    throw error;
  } finally {
    dispose();
  }
}

/**
 * Runs an async function as a task: one span per attempt, the outcome (success, failure,
 * cancelled, timeout), duration, queue wait, in-flight and retry metrics. Returns the
 * function's result, or rejects with its original error (with a {@link TaskTimeoutError} on
 * timeout, with the signal's reason on cancel). With no SDK registered it only runs `fn`.
 *
 * @example
 * const receipt = await runTask({ name: 'send-email', timeoutMs: 10_000, attempts: 3 },
 *   ({ signal }) => mailer.send(message, { signal }));
 */
export function runTask<T>(
  options: RunTaskOptions,
  fn: (task: TaskContext) => Promise<T> | T,
): Promise<T> {
  return runTaskAttempt(options, fn);
}

/**
 * {@link runTask} for a task that arrived from a transport: the attempt number, the carrier
 * found in the message (parent or link, baggage, queue wait) and the wait start come with the
 * options. For a transport whose attempts end on a later settle call, see `SettledAttempt`.
 *
 * @example
 * await runTaskAttempt({ name: 'resize', queue: 'images', system: 'my-queue', carrier: msg.headers,
 *   attempt: msg.deliveries }, () => resize(msg.body));
 */
export function runTaskAttempt<T>(
  options: RunTaskAttemptOptions,
  fn: (task: TaskContext) => Promise<T> | T,
): Promise<T> {
  const first = options.attempt ?? 1;
  if (options.attempts === undefined || options.attempts <= 1) {
    const instrumented = isTelemetryActive();
    if (options.timeoutMs === undefined && options.signal === undefined && !instrumented) {
      try {
        return Promise.resolve(
          fn({ signal: NEVER_ABORTED, attempt: first, span: NON_RECORDING_SPAN }),
        );
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the function's own error passes through unchanged
        return Promise.reject(error);
      }
    }
    return runAttempt(options, first, false, instrumented, fn);
  }
  return runWithRetries(options, first, fn);
}

async function runWithRetries<T>(
  options: RunTaskAttemptOptions,
  first: number,
  fn: (task: TaskContext) => Promise<T> | T,
): Promise<T> {
  const last = first + Math.floor(options.attempts ?? 1) - 1;
  for (let attemptNumber = first; ; attemptNumber++) {
    const retriesLeft = attemptNumber < last;
    try {
      return await runAttempt(options, attemptNumber, retriesLeft, isTelemetryActive(), fn);
    } catch (error) {
      const retry =
        retriesLeft &&
        options.signal?.aborted !== true &&
        !isExpectedError(error, options.expectedErrors);
      if (!retry) throw error;
      await delay(backoffMs(options, attemptNumber), options.signal);
    }
  }
}
