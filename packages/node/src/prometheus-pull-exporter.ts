import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { ExporterConfig } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type {
  AggregationTemporality,
  CollectionResult,
  InstrumentType,
  MetricData,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { readerTemporality } from './gauge-temporality.js';
import { prometheusMetricName, prometheusUnit } from './prometheus-names.js';
import type { PrometheusMetricKind } from './prometheus-names.js';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_NAMESPACE } from './semconv.js';

/** The resource attributes that become `job` and `instance` instead of target_info labels. */
const IDENTIFYING_ATTRIBUTES = [
  ATTR_SERVICE_NAMESPACE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_INSTANCE_ID,
];

/** A label value as Prometheus writes an attribute value (strings as they are, others as JSON). */
function labelValue(value: AttributeValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * `job` (service.name, after `service.namespace/` when there is one) and `instance`
 * (service.instance.id): the labels Prometheus's OTLP receiver puts on every series.
 */
function targetLabels(resource: Attributes): Attributes {
  const labels: Attributes = {};
  const name = resource[ATTR_SERVICE_NAME];
  const namespace = resource[ATTR_SERVICE_NAMESPACE];
  const instance = resource[ATTR_SERVICE_INSTANCE_ID];
  if (name !== undefined) {
    labels.job =
      namespace === undefined ? labelValue(name) : `${labelValue(namespace)}/${labelValue(name)}`;
  }
  if (instance !== undefined) labels.instance = labelValue(instance);
  return labels;
}

function kindOf(metric: MetricData): PrometheusMetricKind {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'up-down-counter';
    case DataPointType.GAUGE:
      return 'gauge';
    default:
      return 'histogram';
  }
}

/** A metric under its Prometheus name and unit, with the target labels on every point. */
function asStored<M extends MetricData>(metric: M, labels: Attributes): M {
  const { name, unit } = metric.descriptor;
  return {
    ...metric,
    descriptor: {
      ...metric.descriptor,
      // Already ending in `_total` where it needs it, so the serializer adds nothing.
      name: prometheusMetricName(name, unit, kindOf(metric)),
      unit: prometheusUnit(unit),
    },
    dataPoints: metric.dataPoints.map((point) => ({
      ...point,
      attributes: { ...point.attributes, ...labels },
    })),
  };
}

/**
 * What Prometheus's OTLP receiver stores for `resourceMetrics`: metrics under their Prometheus
 * names with `job` and `instance`, and a resource that target_info serializes with `job`,
 * `instance` and the other resource attributes (the identifying ones are not repeated there).
 */
function asStoredByOtlpReceiver(resourceMetrics: ResourceMetrics): ResourceMetrics {
  const attributes = resourceMetrics.resource.attributes;
  const labels = targetLabels(attributes);
  const others = Object.entries(attributes).filter(
    ([key]) => !IDENTIFYING_ATTRIBUTES.includes(key),
  );
  return {
    resource: resourceFromAttributes({ ...labels, ...Object.fromEntries(others) }),
    scopeMetrics: resourceMetrics.scopeMetrics.map((scopeMetrics) => ({
      ...scopeMetrics,
      metrics: scopeMetrics.metrics.map((metric) => asStored(metric, labels)),
    })),
  };
}

/**
 * The Prometheus pull endpoint (`OTEL_METRICS_EXPORTER=prometheus`): the SDK's PrometheusExporter,
 * serving the names and labels that Prometheus's OTLP receiver stores for the same metrics
 * (`task_duration_seconds_bucket`, `task_last_success_seconds`, `task_retries_total`, …, each
 * with `job` and `instance`, and no `otel_scope_*` labels), so that the alert and recording
 * rules, the dashboard and `tasklens stats` read a scraped process as they read one that pushes
 * over OTLP. Scrape it with `honor_labels: true` so that Prometheus keeps the served `job` and
 * `instance` rather than renaming them `exported_job` and `exported_instance`.
 *
 * @example
 * const exporter = new PrometheusPullExporter({ host: '127.0.0.1', port: 9464 });
 * const meterProvider = new MeterProvider({ resource, readers: [exporter] });
 */
export class PrometheusPullExporter extends PrometheusExporter {
  /** `config` as PrometheusExporter takes it, but `withoutScopeInfo` is always on. */
  constructor(config: ExporterConfig = {}) {
    super({ ...config, withoutScopeInfo: true });
  }

  /** Cumulative, but delta for observable gauges: no stale gauge values (gauge-temporality.ts). */
  override selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return readerTemporality(instrumentType);
  }

  override async collect(
    options?: Parameters<PrometheusExporter['collect']>[0],
  ): Promise<CollectionResult> {
    const { resourceMetrics, errors } = await super.collect(options);
    return { resourceMetrics: asStoredByOtlpReceiver(resourceMetrics), errors };
  }
}
