import { isQueueDepthWatched, queueDepthSettings, watchQueueDepth } from '@tasklens/core/adapter';
import type { QueueDepthOptions, QueueDepthReader } from '@tasklens/core/adapter';
import type { WrappableChannel } from './internal-types.js';
import { MESSAGING_SYSTEM_RABBITMQ } from './semconv.js';

/** What a passive declare answers. */
interface QueueCheck {
  messageCount: number;
  consumerCount: number;
}

/** A channel of amqplib's promise or callback API, as far as the poller uses one. */
interface PollableChannel {
  open(...callback: unknown[]): unknown;
  checkQueue(queue: string, ...callback: unknown[]): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** amqplib's connection under a channel (the one `connection.createChannel()` opens channels on). */
interface AmqpConnection {
  once(event: 'close', listener: () => void): unknown;
}

type ChannelClass = new (connection: AmqpConnection) => PollableChannel;

/**
 * Calls a channel method of either API: the callback API's take one more parameter (the
 * callback) than they are given here; the promise API's return a promise.
 */
function call<T>(channel: PollableChannel, method: 'open' | 'checkQueue', args: unknown[]) {
  const fn = channel[method].bind(channel) as (...values: unknown[]) => unknown;
  if (fn.length > args.length) {
    return new Promise<T>((resolve, reject) => {
      fn(...args, (error: unknown, ok: T) => {
        if (error === null || error === undefined) resolve(ok);
        else reject(error instanceof Error ? error : new Error(`amqplib ${method} failed`));
      });
    });
  }
  return Promise.resolve(fn(...args) as T);
}

function ignore(): void {
  // A poll channel's errors reach the poll that caused them through its rejected reply.
}

/**
 * One channel per connection for the passive declares of every polled queue of that connection,
 * never the application's. A declare of a missing queue has the broker close the channel it was
 * sent on (404), so declares go one at a time (a failing one never takes another's reply with
 * it) and the next one opens a new channel.
 */
class PollChannel {
  private channel: Promise<PollableChannel> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  closed = false;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly Channel: ChannelClass,
  ) {
    connection.once('close', () => {
      this.closed = true;
    });
  }

  /** One `queue.declare` (passive) of `queue`, after the declares before it. */
  check(queue: string): Promise<QueueCheck> {
    const declared = this.tail.then(async () => {
      const channel = await (this.channel ??= this.open());
      return call<QueueCheck>(channel, 'checkQueue', [queue]);
    });
    this.tail = declared.catch(ignore);
    return declared;
  }

  private open(): Promise<PollableChannel> {
    const channel = new this.Channel(this.connection);
    channel.on('error', ignore);
    const opened = call(channel, 'open', []).then(() => channel);
    channel.on('close', () => {
      if (this.channel === opened) this.channel = undefined;
    });
    opened.catch(() => {
      if (this.channel === opened) this.channel = undefined;
    });
    return opened;
  }
}

const pollChannels = new WeakMap<object, PollChannel>();

function pollChannelOf(channel: WrappableChannel): PollChannel | undefined {
  const connection = (channel as unknown as { connection?: unknown }).connection;
  if (typeof connection !== 'object' || connection === null) return undefined;
  if (typeof (connection as { once?: unknown }).once !== 'function') return undefined;
  let pollChannel = pollChannels.get(connection);
  if (pollChannel === undefined) {
    pollChannel = new PollChannel(
      connection as AmqpConnection,
      channel.constructor as unknown as ChannelClass,
    );
    pollChannels.set(connection, pollChannel);
  }
  return pollChannel;
}

/**
 * One command per poll: a passive `queue.declare`, whose reply holds the ready messages
 * (waiting) and the consumers. RabbitMQ tells neither the unacknowledged messages nor their age
 * through AMQP, so `active` and the oldest waiting age are not reported.
 */
function readerOf(pollChannel: PollChannel, queue: string): QueueDepthReader {
  return {
    async read() {
      const { messageCount, consumerCount } = await pollChannel.check(queue);
      return { waiting: messageCount, consumers: consumerCount };
    },
    isClosed: () => pollChannel.closed,
  };
}

/** Starts polling a queue the channel consumes from or sends to (a no-op once it is polled). */
export type QueueDepthWatch = (queue: unknown) => void;

/**
 * What the channel's `consume`, `sendToQueue` and `publish` (to the default exchange) call with
 * their queue to have its depth polled, on a channel of its own on the same connection; undefined
 * with queue depth off. Costs one map lookup per message once a queue is polled.
 */
export function queueDepthWatch(
  channel: WrappableChannel,
  options: QueueDepthOptions,
): QueueDepthWatch | undefined {
  if (!queueDepthSettings(options).enabled) return undefined;
  return (queue) => {
    if (typeof queue !== 'string' || queue === '') return;
    if (isQueueDepthWatched(MESSAGING_SYSTEM_RABBITMQ, queue)) return;
    const pollChannel = pollChannelOf(channel);
    if (pollChannel === undefined || pollChannel.closed) return;
    watchQueueDepth(MESSAGING_SYSTEM_RABBITMQ, queue, () => readerOf(pollChannel, queue), options);
  };
}
