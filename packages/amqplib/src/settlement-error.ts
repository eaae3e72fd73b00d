/**
 * The error of an attempt whose message was nacked or rejected after a handler that did not
 * throw (the adapter cannot see why the consumer gave the message up): `error.type`
 * `MessageNackedError`.
 */
export class MessageNackedError extends Error {
  override readonly name = 'MessageNackedError';

  constructor(
    /** `nack` or `reject`. */
    readonly settlement: 'nack' | 'reject',
    /** Whether the broker was asked to requeue the message. */
    readonly requeue: boolean,
  ) {
    super(`message ${settlement === 'nack' ? 'nacked' : 'rejected'} (requeue=${String(requeue)})`);
  }
}
