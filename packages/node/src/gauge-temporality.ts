import { AggregationTemporality, InstrumentType } from '@opentelemetry/sdk-metrics';

/**
 * The temporality tasklens's readers ask the SDK for: cumulative, except for observable gauges.
 * A gauge's point has no temporality on the wire (OTLP and Prometheus alike); what it changes is
 * what the SDK keeps: with cumulative, OTel JS exports the last value of every attribute set an
 * observable gauge ever observed, so a queue whose depth poll failed (or a series no callback
 * reports any more) would keep showing a stale value. Delta exports what the callbacks observed
 * in this collection only.
 */
export function readerTemporality(instrumentType: InstrumentType): AggregationTemporality {
  return instrumentType === InstrumentType.OBSERVABLE_GAUGE
    ? AggregationTemporality.DELTA
    : AggregationTemporality.CUMULATIVE;
}
