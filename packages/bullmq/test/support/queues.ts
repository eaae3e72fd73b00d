/* BullMQ queues on the tests' Redis: connection options, unique names, polling. */
import { REDIS_HOST, REDIS_PORT } from '@tasklens/test-utils';

export const connection = { host: REDIS_HOST, port: REDIS_PORT };

let counter = 0;
/** A queue name no other run or test uses. */
export function uniqueQueueName(label: string): string {
  counter += 1;
  return `tasklens-test-${label}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Polls `check` every 20 ms until it is true; rejects after `timeoutMs` with `what`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
