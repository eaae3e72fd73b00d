/*
 * An observable gauge's series that its callback no longer observes (a queue whose depth poll
 * failed) leaves the export at once, over OTLP and on the pull endpoint: no stale value. Counters
 * and histograms stay cumulative.
 */
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusPullExporter, startTelemetry } from '@tasklens/node';
import { describe, expect, it } from 'vitest';
import { useOtlpReceiver } from './support/otlp-receiver-telemetry.js';

const { receiver, options } = useOtlpReceiver();

/** A gauge observing `reported()`'s queues, and a counter beside it. */
function instruments(reported: () => string[]) {
  const meter = metrics.getMeter('app');
  meter.createObservableGauge('app.queue.depth').addCallback((result) => {
    for (const queue of reported()) result.observe(3, { queue });
  });
  return meter.createCounter('app.sent');
}

describe('observable gauges', () => {
  it('over OTLP: a series not observed in a collection is not exported in it', async () => {
    let queues = ['emails', 'sms'];
    const telemetry = startTelemetry(options());
    const sent = instruments(() => queues);
    sent.add(1);
    await telemetry.forceFlush();
    queues = ['emails'];
    await telemetry.forceFlush();
    await telemetry.shutdown();

    // The points of one export share its collection time.
    const byExport = new Map<bigint, unknown[]>();
    for (const point of receiver().metricPoints('app.queue.depth')) {
      byExport.set(point.timeUnixNano, [
        ...(byExport.get(point.timeUnixNano) ?? []),
        point.attributes.queue,
      ]);
    }
    const queuesPerExport = [...byExport.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, exported]) => exported.sort());
    expect(queuesPerExport.slice(0, 2)).toEqual([['emails', 'sms'], ['emails']]);
    const sentPoints = receiver().metricPoints('app.sent');
    expect(sentPoints.every((point) => point.temporality === 'cumulative')).toBe(true);
  });

  it('on the pull endpoint: the same', async () => {
    let queues = ['emails', 'sms'];
    const exporter = new PrometheusPullExporter({ preventServerStart: true });
    const meterProvider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(meterProvider);
    instruments(() => queues);
    const queuesNow = async () =>
      (await exporter.collect()).resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === 'app_queue_depth')
        .flatMap((metric) => metric.dataPoints.map((point) => point.attributes.queue))
        .sort();
    expect(await queuesNow()).toEqual(['emails', 'sms']);
    queues = ['emails'];
    expect(await queuesNow()).toEqual(['emails']);
    await meterProvider.shutdown();
  });
});
