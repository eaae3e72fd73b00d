import { LimitedWarning, isPromiseLike } from '@tasklens/core/adapter';
import { declaresDeadLetterExchange } from './delivery-headers.js';
import type { WrappableChannel } from './internal-types.js';

const unreadable = new LimitedWarning('could not read assertQueue options');

const MAX_DEAD_LETTER_QUEUES = 1000;

/** Queues declared with a dead-letter exchange through an instrumented channel (bounded). */
const deadLetterQueues = new Set<string>();

function remember(queue: unknown): void {
  if (typeof queue !== 'string' || queue === '') return;
  if (deadLetterQueues.size >= MAX_DEAD_LETTER_QUEUES) return;
  deadLetterQueues.add(queue);
}

/** Whether a message rejected without requeue from this queue goes to a dead-letter exchange. */
export function hasDeadLetterExchange(queue: string): boolean {
  return deadLetterQueues.has(queue);
}

/** Wraps `assertQueue` to learn which queues dead-letter what they reject. */
export function instrumentQueueDeclarations(channel: WrappableChannel): void {
  const assertQueue = channel.assertQueue;
  channel.assertQueue = (queue, options, ...rest) => {
    const reply = assertQueue.call(channel, queue, options, ...rest);
    try {
      if (declaresDeadLetterExchange(options)) {
        if (queue !== undefined && queue !== '') remember(queue);
        else if (isPromiseLike(reply)) {
          reply.then((declared) => remember((declared as { queue?: unknown }).queue), ignore);
        }
      }
    } catch (error) {
      unreadable.report(error);
    }
    return reply;
  };
}

function ignore(): void {
  // The caller gets the rejection from the promise they hold.
}
