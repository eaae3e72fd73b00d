/* Real Redis for the integration tests: reachability with a how-to-start message, unique names. */
import { connect } from 'node:net';

export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);

export const START_REDIS =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no';

/** Resolves when a Redis answers PING on the port; rejects saying how to start one otherwise. */
export function requireRedis(port = REDIS_PORT, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: REDIS_HOST, port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(
        new Error(
          `Redis is not reachable on ${REDIS_HOST}:${port} (${why}). The BullMQ integration ` +
            `tests need a real Redis; start one with: ${START_REDIS}`,
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail('timed out'));
    socket.once('error', (error) => fail(error.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      if (data.toString().startsWith('+PONG')) resolve();
      else fail(`answered ${JSON.stringify(data.toString().slice(0, 40))}`);
    });
  });
}

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
