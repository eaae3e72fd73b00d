import { watchQueueDepth } from '@tasklens/core/adapter';
import type { QueueDepthOptions, QueueDepthReader } from '@tasklens/core/adapter';
import type { ConsumerInfo, InfoableConsumer } from '@nats-io/jetstream';
import { MESSAGING_SYSTEM_NATS } from './semconv.js';

/** Errors after which the consumer cannot be read again through this connection. */
const GONE = new Set(['ClosedConnectionError', 'DrainingConnectionError']);

/**
 * One request per poll: the consumer's info (`$JS.API.CONSUMER.INFO`), whose `num_pending`
 * (messages not yet delivered) is waiting and `num_ack_pending` (delivered, not yet acked) is
 * active. JetStream's consumer info says nothing of the pending messages' age, nor a count of
 * consumers (`num_waiting` counts pull requests), so neither is reported.
 */
function readerOf(consumer: InfoableConsumer): QueueDepthReader {
  let gone = false;
  return {
    async read() {
      try {
        const info = await consumer.info(false);
        return { waiting: info.num_pending, active: info.num_ack_pending };
      } catch (error) {
        if (error instanceof Error && GONE.has(error.name)) gone = true;
        throw error;
      }
    },
    isClosed: () => gone,
  };
}

/**
 * Polls the depth of a JetStream consumer, labelled with `queue` (default: its stream), once per
 * interval: what {@link consumerTaskOptions} registers.
 */
export function watchConsumer(
  consumer: InfoableConsumer,
  info: ConsumerInfo,
  options: QueueDepthOptions & { queue?: string },
): void {
  const queue = options.queue ?? info.stream_name;
  if (typeof queue !== 'string' || queue === '') return;
  watchQueueDepth(MESSAGING_SYSTEM_NATS, queue, () => readerOf(consumer), options);
}
