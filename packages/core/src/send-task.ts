import { context, diag, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span } from '@opentelemetry/api';
import { injectTaskCarrier } from './carrier.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TASK_ID,
  ATTR_TASK_NAME,
  MESSAGING_OPERATION_TYPE_SEND,
} from './semconv.js';
import { currentTaskTracer } from './task-tracer.js';
import { asException, errorTypeOf } from './task-errors.js';
import type { SendTaskOptions, TaskCarrier } from './types.js';

/** What the send function of {@link sendTask} receives. */
export interface TaskSend {
  /** Trace context, baggage and enqueue time to put in the message. */
  carrier: TaskCarrier;
  /** The PRODUCER span: set `messaging.message.id` on it once the broker assigns an id. */
  span: Span;
}

function producerAttributes(options: SendTaskOptions): Attributes {
  const attributes: Attributes = {
    ...options.attributes,
    [ATTR_TASK_NAME]: options.name,
    [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_SEND,
  };
  if (options.system !== undefined) attributes[ATTR_MESSAGING_SYSTEM] = options.system;
  const destination = options.destination ?? options.queue;
  if (destination !== undefined) attributes[ATTR_MESSAGING_DESTINATION_NAME] = destination;
  if (options.id !== undefined) {
    attributes[ATTR_TASK_ID] = options.id;
    attributes[ATTR_MESSAGING_MESSAGE_ID] = options.id;
  }
  return attributes;
}

/**
 * The producer side of a task: a PRODUCER span around `send`, and a carrier holding that span's
 * context, the baggage and the enqueue time for `send` to put in the message. Returns what
 * `send` returns; a failing send marks the span ERROR and rejects with the original error.
 *
 * @example
 * await sendTask({ name: 'resize', queue: 'images', system: 'rabbitmq' }, ({ carrier }) =>
 *   channel.sendToQueue('images', body, { headers: carrier }));
 */
export async function sendTask<T>(
  options: SendTaskOptions,
  send: (message: TaskSend) => Promise<T> | T,
): Promise<T> {
  const span = currentTaskTracer().startSpan(
    options.spanName ?? `send ${options.queue ?? options.name}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: producerAttributes(options),
    },
  );
  const spanContext = trace.setSpan(context.active(), span);
  const carrier = injectTaskCarrier({}, spanContext);
  try {
    const result = await context.with(spanContext, () => send({ carrier, span }));
    span.end();
    return result;
  } catch (error) {
    try {
      const exception = asException(error);
      span.setAttribute(ATTR_ERROR_TYPE, errorTypeOf(error));
      span.recordException(exception);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: typeof exception === 'string' ? exception : exception.message,
      });
      span.end();
    } catch (instrumentationError) {
      diag.error('tasklens: could not record a failed send', instrumentationError);
    }
    throw error;
  }
}
