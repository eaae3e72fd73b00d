import { LimitedWarning, watchQueueDepth } from '@tasklens/core/adapter';
import type { QueueDepth, QueueDepthOptions, QueueDepthReader } from '@tasklens/core/adapter';
import type {
  ConsumerInfo,
  InfoableConsumer,
  JetStreamManager,
  JetStreamOptions,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { MESSAGING_SYSTEM_NATS } from './semconv.js';

/** Errors after which the consumer cannot be read again through this connection. */
const GONE = new Set(['ClosedConnectionError', 'DrainingConnectionError']);

const ageUnreadable = new LimitedWarning(
  'could not read the time of the oldest pending JetStream message; its queue has no age point',
);

/** The client a consumer of @nats-io/jetstream 3 makes its requests through. */
interface ConsumerApi {
  getConnection(): NatsConnection;
  getOptions?(): JetStreamOptions;
}

function consumerApiOf(consumer: InfoableConsumer): ConsumerApi | undefined {
  const api = (consumer as { api?: Partial<ConsumerApi> }).api;
  return typeof api?.getConnection === 'function' ? (api as ConsumerApi) : undefined;
}

/**
 * The subject the consumer's next undelivered message is the first stored match of, or
 * undefined when no single request finds that message (several filters, last-per-subject).
 */
function pendingSubjectOf({ config }: ConsumerInfo): string | undefined {
  if (config.deliver_policy === 'last_per_subject') return undefined;
  const filters = config.filter_subjects ?? [];
  if (filters.length > 1) return undefined;
  return filters[0] ?? config.filter_subject ?? '>';
}

/**
 * One request per poll: the consumer's info (`$JS.API.CONSUMER.INFO`), whose `num_pending`
 * (messages not yet delivered) is waiting and `num_ack_pending` (delivered, not yet acked) is
 * active. While messages wait, a second one (`$JS.API.STREAM.MSG.GET`, the first message after
 * the last delivered one that matches the consumer's filter) gives the oldest waiting age. The
 * consumer info has no count of consumers (`num_waiting` counts pull requests): not reported.
 */
function readerOf(consumer: InfoableConsumer): QueueDepthReader {
  let gone = false;
  let manager: Promise<JetStreamManager | undefined> | undefined;
  const managerOf = (): Promise<JetStreamManager | undefined> => {
    const api = consumerApiOf(consumer);
    if (api === undefined) return Promise.resolve(undefined);
    return import('@nats-io/jetstream').then(({ jetstreamManager }) =>
      jetstreamManager(api.getConnection(), { ...api.getOptions?.(), checkAPI: false }),
    );
  };
  const oldestWaitingAt = async (info: ConsumerInfo): Promise<number | undefined> => {
    const subject = pendingSubjectOf(info);
    if (subject === undefined) return undefined;
    const jsm = await (manager ??= managerOf());
    // With `next_by_subj`, the server answers the first stored match on or after `seq`.
    const query = { seq: info.delivered.stream_seq + 1, next_by_subj: subject };
    const message = await jsm?.streams.getMessage(info.stream_name, query);
    return message?.time.getTime();
  };
  return {
    async read() {
      let info: ConsumerInfo;
      try {
        info = await consumer.info(false);
      } catch (error) {
        if (error instanceof Error && GONE.has(error.name)) gone = true;
        throw error;
      }
      const depth: QueueDepth = { waiting: info.num_pending, active: info.num_ack_pending };
      if (info.num_pending === 0) {
        depth.oldestWaitingAgeSeconds = 0;
        return depth;
      }
      try {
        const waitingSince = await oldestWaitingAt(info);
        if (waitingSince !== undefined) {
          depth.oldestWaitingAgeSeconds = Math.max(0, Date.now() - waitingSince) / 1000;
        }
      } catch (error) {
        ageUnreadable.report(error);
      }
      return depth;
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
