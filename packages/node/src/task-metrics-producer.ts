import { ValueType } from '@opentelemetry/api';
import type { Attributes, HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, InstrumentType } from '@opentelemetry/sdk-metrics';
import type { DataPointWithExemplars } from './otlp-exemplars.js';
import type { HistogramBuckets } from './types.js';
import type {
  CollectionResult,
  HistogramMetricData,
  MeterProvider,
  MetricProducer,
} from '@opentelemetry/sdk-metrics';

/**
 * A histogram as @tasklens/core hands it over (its `CollectedHistogram`; this package does not
 * depend on core, so the contract is restated here and versioned on the sink).
 */
interface CollectedHistogram {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly boundaries: readonly number[];
  readonly points: readonly {
    readonly attributes: Attributes;
    readonly startTime: HrTime;
    readonly counts: readonly number[];
    readonly sum: number;
    readonly count: number;
    readonly min: number;
    readonly max: number;
    /** The latest sampled record per bucket (cores before 0.2 have none). */
    exemplars?(): readonly CollectedExemplar[];
  }[];
}

interface CollectedExemplar {
  readonly value: number;
  readonly time: HrTime;
  readonly traceId: string;
  readonly spanId: string;
}

type Collect = () => readonly CollectedHistogram[];

/** Where @tasklens/core looks for the sink on a MeterProvider (its TASK_METRICS_SINK). */
const TASK_METRICS_SINK = Symbol.for('tasklens.task-metrics-sink');

function toMetricData(histogram: CollectedHistogram, endTime: HrTime): HistogramMetricData {
  // The instrument descriptor the SDK's own histogram would carry (type and advice included).
  const descriptor = {
    name: histogram.name,
    description: histogram.description,
    unit: histogram.unit,
    type: InstrumentType.HISTOGRAM,
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: [...histogram.boundaries] },
  };
  return {
    descriptor,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: histogram.points.map((point) => {
      const dataPoint: DataPointWithExemplars = {
        attributes: point.attributes,
        startTime: point.startTime,
        endTime,
        value: {
          buckets: { boundaries: [...histogram.boundaries], counts: [...point.counts] },
          sum: point.sum,
          count: point.count,
          min: point.min,
          max: point.max,
        },
      };
      const exemplars = point.exemplars?.() ?? [];
      if (exemplars.length > 0) {
        dataPoint.exemplars = exemplars.map(({ value, time, traceId, spanId }) => ({
          filteredAttributes: {},
          value,
          timestamp: time,
          traceId,
          spanId,
        }));
      }
      return dataPoint;
    }),
  };
}

/**
 * The metric producer of the task histograms that @tasklens/core keeps itself when it finds this
 * sink on the registered MeterProvider (a record there costs a bucket search, where the SDK's own
 * histogram hashes the attribute set on every record). Every reader of the provider collects it
 * with the SDK's own metrics, cumulative, in core's instrumentation scope: the same data points
 * the SDK's histograms would give. `startTelemetry()` sets it up; with an SDK of your own, pass
 * it to each reader and offer it to the provider.
 *
 * @example
 * const taskMetrics = new TaskMetricsProducer();
 * const meterProvider = new MeterProvider({ readers: [
 *   new PeriodicExportingMetricReader({ exporter, metricProducers: [taskMetrics] }) ] });
 * taskMetrics.offerTo(meterProvider);
 * metrics.setGlobalMeterProvider(meterProvider);
 */
export class TaskMetricsProducer implements MetricProducer {
  readonly version = 1;
  private scope: { name: string; version: string } | undefined;
  private collectHistograms: Collect | undefined;

  /**
   * `resource` is not exported: a reader reports its provider's own. `buckets`: boundaries in
   * seconds in place of the defaults, for the histograms named (`startTelemetry()`'s
   * `histogramBuckets`).
   */
  constructor(
    private readonly resource: Resource = emptyResource(),
    readonly buckets: HistogramBuckets = {},
  ) {}

  /** Puts the sink on the provider, where core finds it. */
  offerTo(meterProvider: MeterProvider): void {
    Object.defineProperty(meterProvider, TASK_METRICS_SINK, { value: this });
  }

  attach(scope: { name: string; version: string }, collect: Collect): void {
    this.scope = scope;
    this.collectHistograms = collect;
  }

  collect(): Promise<CollectionResult> {
    const { scope, collectHistograms } = this;
    const endTime = hrTime();
    const metrics =
      collectHistograms === undefined
        ? []
        : collectHistograms()
            .filter((histogram) => histogram.points.length > 0)
            .map((histogram) => toMetricData(histogram, endTime));
    return Promise.resolve({
      resourceMetrics: {
        resource: this.resource,
        scopeMetrics: scope === undefined || metrics.length === 0 ? [] : [{ scope, metrics }],
      },
      errors: [],
    });
  }
}
