/** What the spool counts: spans and metric exports. */
export type SpoolSignal = 'spans' | 'metric_exports';
/** What happened to them. */
export type SpoolEvent = 'spooled' | 'replayed' | 'dropped';

/** One spool counter: its OpenTelemetry name and unit, and its name in Prometheus. */
export interface SpoolMetricName {
  readonly name: string;
  readonly unit: string;
  readonly prometheusName: string;
}

const UNITS: Record<SpoolSignal, string> = { spans: '{span}', metric_exports: '{export}' };

function spoolMetric(signal: SpoolSignal, event: SpoolEvent): SpoolMetricName {
  return {
    name: `tasklens.spool.${signal}.${event}`,
    unit: UNITS[signal],
    prometheusName: `tasklens_spool_${signal}_${event}_total`,
  };
}

function spoolMetrics(signal: SpoolSignal): Record<SpoolEvent, SpoolMetricName> {
  return {
    spooled: spoolMetric(signal, 'spooled'),
    replayed: spoolMetric(signal, 'replayed'),
    dropped: spoolMetric(signal, 'dropped'),
  };
}

/**
 * The spool's counters (`dropped` has the label `reason`): names and units are a public contract
 * (the `TasklensTelemetryDropped` alert).
 */
export const SPOOL_METRICS: Readonly<Record<SpoolSignal, Record<SpoolEvent, SpoolMetricName>>> = {
  spans: spoolMetrics('spans'),
  metric_exports: spoolMetrics('metric_exports'),
};
