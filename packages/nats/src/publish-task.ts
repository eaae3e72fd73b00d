import { diag } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import type { Payload } from '@nats-io/nats-core';
import { ATTR_MESSAGING_MESSAGE_ID, ATTR_TASK_ID, ATTR_TASK_NAME, sendTask } from '@tasklens/core';
import { LimitedWarning, resolveTaskName } from '@tasklens/core/adapter';
import { mergeCarrier } from './message-headers.js';
import { MESSAGING_SYSTEM_NATS } from './semconv.js';
import type { PublishTaskOptions } from './types.js';

const ackUnreadable = new LimitedWarning('could not record a NATS publish ack');

type Publish = JetStreamClient['publish'];
type PublishOptions = Partial<JetStreamPublishOptions>;

/** Where an instrumented client keeps its own publish, so explicit calls do not nest spans. */
const ORIGINAL_PUBLISH = Symbol.for('tasklens.nats.original-publish');

interface InstrumentedClient {
  [ORIGINAL_PUBLISH]?: Publish;
}

/** Names the span after the stream once the broker's ack says which stream took the message. */
function recordAck(
  span: Span,
  ack: PubAck,
  task: PublishTaskOptions,
  options: PublishOptions | undefined,
): void {
  try {
    if (task.queue === undefined) {
      span.updateName(`send ${ack.stream}`);

      if ((task.taskName ?? task.name) === undefined) span.setAttribute(ATTR_TASK_NAME, ack.stream);
    }
    if (options?.msgID === undefined) {
      const id = String(ack.seq);
      span.setAttribute(ATTR_TASK_ID, id);
      span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, id);
    }
  } catch (error) {
    ackUnreadable.report(error);
  }
}

function publishThrough(
  publish: Publish,
  subject: string,
  payload: Payload | undefined,
  options: PublishOptions | undefined,
  task: PublishTaskOptions,
): Promise<PubAck> {
  return sendTask(
    {
      name: resolveTaskName(task.taskName ?? task.name, task.queue ?? subject, subject, undefined),
      queue: task.queue,
      // Renamed after the stream once the ack names it.
      spanName: task.queue === undefined ? `send ${subject}` : undefined,
      destination: subject,
      system: MESSAGING_SYSTEM_NATS,
      id: options?.msgID,
      attributes: task.attributes,
    },
    async ({ carrier, span }) => {
      const headers = mergeCarrier(options?.headers, carrier);
      const ack = await publish(subject, payload, { ...options, headers });
      recordAck(span, ack, task, options);
      return ack;
    },
  );
}

/**
 * Publishes one message to JetStream as a task: a PRODUCER span `send {stream}` (or
 * `send {queue}`) with the subject as `messaging.destination.name`, and the trace context,
 * baggage and enqueue time added to the message's headers (the user's headers are copied, not
 * changed). Resolves with the broker's ack; a failed publish marks the span ERROR and rejects
 * with the client's error.
 *
 * @example
 * const js = jetstream(nc);
 * await publishTask(js, `orders.${order.id}`, JSON.stringify(order), { msgID: order.id }, {
 *   taskName: 'place-order',
 * });
 */
export function publishTask(
  js: JetStreamClient,
  subject: string,
  payload?: Payload,
  options?: PublishOptions,
  task: PublishTaskOptions = {},
): Promise<PubAck> {
  const publish =
    (js as InstrumentedClient)[ORIGINAL_PUBLISH] ??
    ((publishSubject, publishPayload, publishOptions) =>
      js.publish(publishSubject, publishPayload, publishOptions));
  return publishThrough(publish, subject, payload, options, task);
}

/**
 * Makes every `js.publish(...)` of this client a task, as {@link publishTask} does, with
 * `options` for all of them. Patches the instance and returns it; a second call on the same
 * client changes nothing. Never throws: a client that cannot be patched is returned as is.
 *
 * @example
 * const js = instrumentJetStream(jetstream(nc));
 * await js.publish('orders.123', payload); // span "send ORDERS", headers carry the context
 */
export function instrumentJetStream<T extends JetStreamClient>(
  js: T,
  options: PublishTaskOptions = {},
): T {
  try {
    const client = js as T & InstrumentedClient;
    if (client[ORIGINAL_PUBLISH] !== undefined) return js;
    const original: Publish = js.publish.bind(js);
    const publish: Publish = (subject, payload, publishOptions) =>
      publishThrough(original, subject, payload, publishOptions, options);
    Object.defineProperty(client, ORIGINAL_PUBLISH, { value: original, configurable: true });
    Object.defineProperty(client, 'publish', {
      value: publish,
      configurable: true,
      writable: true,
    });
  } catch (error) {
    diag.warn('tasklens: could not instrument a JetStream client', error);
  }
  return js;
}
