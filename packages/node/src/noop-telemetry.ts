import type { Telemetry, TelemetryDisabledReason } from './types.js';

/** A {@link Telemetry} that exports nothing; its methods resolve at once. */
export function createNoopTelemetry(disabledReason: TelemetryDisabledReason): Telemetry {
  return {
    enabled: false,
    disabledReason,
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
