import { currentTaskInstruments } from './task-metrics.js';
import { isTracingRegistered } from './task-tracer.js';

/**
 * Whether any OpenTelemetry SDK listens (a tracer or a meter provider is registered). Without one
 * a task needs no instrumentation work at all: adapters check this first so that an
 * uninstrumented process pays next to nothing. Cheap; checked per task because an SDK may be
 * registered after the first one.
 */
export function isTelemetryActive(): boolean {
  return isTracingRegistered() || currentTaskInstruments() !== undefined;
}
