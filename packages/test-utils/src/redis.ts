/*
 * The real Redis of the integration tests (BullMQ, the CLI end to end): is it there, and if not,
 * how to start it.
 */
import { connect } from 'node:net';

/** Where the tests expect Redis: 127.0.0.1. */
export const REDIS_HOST = '127.0.0.1';
/** `REDIS_PORT` from the environment, default 6379. */
export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);

/** The command that starts the Redis the tests expect, for failure messages. */
export const START_REDIS =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no';

/**
 * Resolves when a Redis answers PING on 127.0.0.1:`port` within `timeoutMs`; rejects with a
 * message that says how to start one otherwise (a test that needs Redis never skips).
 *
 * @example
 * beforeAll(() => requireRedis());
 */
export function requireRedis(port = REDIS_PORT, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: REDIS_HOST, port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(
        new Error(
          `Redis is not reachable on ${REDIS_HOST}:${port} (${why}). The integration tests ` +
            `need a real Redis; start one with: ${START_REDIS}`,
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
