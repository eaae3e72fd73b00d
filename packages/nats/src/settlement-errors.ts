/**
 * Recorded as the error of an attempt whose handler nak'ed the message without throwing
 * (`error.type` `JetStreamNakError`).
 */
export class JetStreamNakError extends Error {
  override readonly name = 'JetStreamNakError';

  constructor(readonly delayMs: number | undefined) {
    super(
      delayMs === undefined
        ? 'message nak-ed by the handler'
        : `message nak-ed by the handler (redelivery in ${delayMs} ms)`,
    );
  }
}

/**
 * Recorded as the error of an attempt whose handler terminated the message without throwing
 * (`error.type` `JetStreamTermError`): a final failure.
 */
export class JetStreamTermError extends Error {
  override readonly name = 'JetStreamTermError';

  constructor(readonly reason: string | undefined) {
    super(
      reason === undefined || reason === ''
        ? 'message terminated by the handler'
        : `message terminated by the handler: ${reason}`,
    );
  }
}
