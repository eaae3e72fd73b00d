import { ERROR_TYPE_OTHER } from './semconv.js';
import type { ExpectedErrors } from './types.js';

/** The error a task attempt rejects with when its `timeoutMs` elapses. */
export class TaskTimeoutError extends Error {
  override readonly name = 'TaskTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`task attempt timed out after ${timeoutMs} ms`);
  }
}

const ERROR_TYPE_PATTERN = /^[A-Za-z_$][\w$.]{0,63}$/;

/**
 * The low-cardinality `error.type` of an error: its class name, or `_OTHER` when there is no
 * usable name (thrown strings, plain objects, names that look generated or are too long).
 */
export function errorTypeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return ERROR_TYPE_OTHER;
  try {
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== 'Object' && ERROR_TYPE_PATTERN.test(name)) return name;
  } catch {
    // A hostile getter: fall through to _OTHER.
  }
  return ERROR_TYPE_OTHER;
}

/** Whether the user declared this error as expected; a throwing predicate counts as "no". */
export function isExpectedError(error: unknown, expected: ExpectedErrors | undefined): boolean {
  if (expected === undefined) return false;
  try {
    if (typeof expected === 'function') return expected(error) === true;
    return expected.some((errorClass) => error instanceof errorClass);
  } catch {
    return false;
  }
}

/** An Error for span exception events, whatever was thrown. */
export function asException(error: unknown): Error | string {
  if (error instanceof Error) return error;
  try {
    return String(error);
  } catch {
    return 'unprintable thrown value';
  }
}
