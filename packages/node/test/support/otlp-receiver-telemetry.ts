/*
 * A test file's OTLP receiver (a new one for each test, closed after it, the SDK's globals
 * unregistered) and the options that point startTelemetry() at it.
 */
import type { TelemetryOptions } from '@tasklens/node';
import { startOtlpReceiver, unregisterGlobals } from '@tasklens/test-utils';
import type { OtlpReceiver } from '@tasklens/test-utils';
import { afterEach, beforeEach } from 'vitest';

export function useOtlpReceiver(): {
  receiver: () => OtlpReceiver;
  options: (overrides?: TelemetryOptions) => TelemetryOptions;
} {
  let receiver: OtlpReceiver | undefined;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    unregisterGlobals();
    await receiver?.close();
  });
  const current = (): OtlpReceiver => {
    if (receiver === undefined) throw new Error('no OTLP receiver outside a test');
    return receiver;
  };
  return {
    receiver: current,
    options: (overrides = {}) => ({
      otlpEndpoint: current().endpoint,
      handleSignals: false,
      env: {},
      ...overrides,
    }),
  };
}
