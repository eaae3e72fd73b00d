import { LimitedWarning } from './limited-warning.js';

/**
 * The `taskName` option every adapter takes: a fixed name, or a function of what the adapter
 * received (a job, a message and its queue). Keep it low-cardinality: it is a metric label.
 */
export type TaskNameOption<A = undefined, B = undefined> = string | ((a: A, b: B) => string);

const threw = new LimitedWarning('taskName threw or returned no name; the default name was used');

/** The task name from the option, else `fallback`; a throwing or empty function gives `fallback`. */
export function resolveTaskName<A, B>(
  option: TaskNameOption<A, B> | undefined,
  fallback: string,
  a: A,
  b: B,
): string {
  if (option === undefined) return fallback;
  if (typeof option === 'string') return option === '' ? fallback : option;
  try {
    const name = option(a, b);
    if (typeof name === 'string' && name !== '') return name;
    threw.report();
  } catch (error) {
    threw.report(error);
  }
  return fallback;
}
