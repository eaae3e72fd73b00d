import { diag } from '@opentelemetry/api';
import type { InfoableConsumer } from '@nats-io/jetstream';
import { watchConsumer } from './queue-depth.js';
import type { ProcessTaskOptions } from './types.js';

/**
 * {@link processTask} options filled in from the consumer's configuration (its cached info):
 * `maxDeliver` from `max_deliver`, `settleTimeoutMs` from `ack_wait`, `ackPolicy` from
 * `ack_policy` (`explicit` stays explicit; `none` and `all` become `none`). `options` wins over
 * what the consumer says. Never rejects: when the info cannot be read, returns `options`.
 * Also polls the consumer's depth from then on (`task.queue.waiting`, `.active` and
 * `.oldest_waiting_age`, labelled with `queue` or the stream), unless `queueDepth` is off: see
 * the README's Queue depth.
 *
 * @example
 * const consumer = await js.consumers.get('ORDERS', 'billing');
 * const options = await consumerTaskOptions(consumer, { traceMode: 'link' });
 */
export async function consumerTaskOptions(
  consumer: InfoableConsumer,
  options: ProcessTaskOptions = {},
): Promise<ProcessTaskOptions> {
  try {
    const info = await consumer.info(true);
    const { config } = info;
    const fromConsumer: ProcessTaskOptions = {
      ackPolicy: config.ack_policy === 'explicit' ? 'explicit' : 'none',
    };
    if (config.max_deliver !== undefined && config.max_deliver > 0) {
      fromConsumer.maxDeliver = config.max_deliver;
    }
    if (config.ack_wait !== undefined && config.ack_wait > 0) {
      fromConsumer.settleTimeoutMs = config.ack_wait / 1e6;
    }
    const merged = { ...fromConsumer, ...options };
    watchConsumer(consumer, info, merged);
    return merged;
  } catch (error) {
    diag.warn('tasklens: could not read a JetStream consumer configuration', error);
    return options;
  }
}
