import { connect } from 'node:net';
import { requireRedis } from '@tasklens/test-utils';

/**
 * Resolves when something accepts TCP connections on 127.0.0.1:`port`; otherwise rejects saying
 * that `what` is not reachable and how to `start` it.
 */
export function requireListening(what: string, port: number, start: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => socket.destroy(new Error('timed out')));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (error) =>
      reject(
        new Error(
          `${what} is not reachable on 127.0.0.1:${port} (${error.message}). Start it with: ${start}`,
        ),
      ),
    );
  });
}

/** The three brokers of the fixtures' BROKER, each with the check that it is up. */
export const BROKER_CHECKS: Readonly<Record<'bullmq' | 'rabbitmq' | 'nats', () => Promise<void>>> =
  {
    bullmq: () => requireRedis(),
    rabbitmq: () => requireListening('RabbitMQ', 5672, 'rabbitmq-server -detached'),
    nats: () =>
      requireListening(
        'NATS JetStream',
        4222,
        'nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &',
      ),
  };
