import type { ConsumeMessage, Message, Options } from 'amqplib';

/** The confirm callback of a ConfirmChannel's publish. */
export type ConfirmCallback = (error: unknown, ok: unknown) => void;

/** A consumer's message handler, as amqplib calls it. */
export type MessageHandler = (message: ConsumeMessage | null) => unknown;

/**
 * The methods the adapter wraps, typed loosely enough for Channel and ConfirmChannel alike
 * (and the callback API's channels, whose extra trailing arguments are passed through).
 */
export interface WrappableChannel {
  publish: (
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: ConfirmCallback,
  ) => boolean;
  sendToQueue: (
    queue: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: ConfirmCallback,
  ) => boolean;
  consume: (
    queue: string,
    onMessage: MessageHandler,
    options?: Options.Consume,
    ...rest: unknown[]
  ) => unknown;
  assertQueue: (queue?: string, options?: Options.AssertQueue, ...rest: unknown[]) => unknown;
  ack: (message: Message, allUpTo?: boolean) => void;
  ackAll: () => void;
  nack: (message: Message, allUpTo?: boolean, requeue?: boolean) => void;
  nackAll: (requeue?: boolean) => void;
  reject: (message: Message, requeue?: boolean) => void;
  on: (event: 'close', listener: () => void) => unknown;
}
