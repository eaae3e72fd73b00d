import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` every 250 ms until it returns a value other than `undefined`; fails with `what`
 * and the last error after `limitMs`.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  limitMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not happen (last error: ${String(lastError)})`);
    }
    await sleep(250);
  }
}
