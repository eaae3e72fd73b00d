import { eventually } from './eventually.js';
import type { InMemoryTelemetry } from './in-memory-telemetry.js';

/** The queue depth gauges, by the last part of their instrument name (`task.queue.waiting`). */
export type QueueGauge =
  'waiting' | 'active' | 'delayed' | 'failed' | 'oldest_waiting_age' | 'consumers';

/** One queue's depth as recorded: a gauge with no point for the queue is absent. */
export type QueueDepth = Partial<Record<QueueGauge, number>>;

const GAUGES: readonly QueueGauge[] = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'oldest_waiting_age',
  'consumers',
];

/**
 * The depth gauges of `queue` on `system` now, from what `telemetry` recorded. Throws when a point
 * of the queue carries other labels than the queue and its messaging system.
 */
export async function queueDepthOf(
  telemetry: InMemoryTelemetry,
  system: string,
  queue: string,
): Promise<QueueDepth> {
  const depth: QueueDepth = {};
  for (const gauge of GAUGES) {
    for (const point of await telemetry.metricPoints(`task.queue.${gauge}`)) {
      if (point.attributes['task.queue'] !== queue) continue;
      const labels = JSON.stringify(point.attributes);
      if (labels !== JSON.stringify({ 'task.queue': queue, 'messaging.system': system })) {
        throw new Error(`task.queue.${gauge} of ${queue} has the labels ${labels}`);
      }
      depth[gauge] = point.value;
    }
  }
  return depth;
}

/** Resolves with the depth of `queue` once `check` accepts it; `what` names the wait. */
export function queueDepthWhen(
  telemetry: InMemoryTelemetry,
  system: string,
  queue: string,
  what: string,
  check: (depth: QueueDepth) => boolean,
): Promise<QueueDepth> {
  return eventually(what, async () => {
    const depth = await queueDepthOf(telemetry, system, queue);
    return check(depth) ? depth : undefined;
  });
}
