import { BackendUnreachableError, getJson } from './http-json.js';

/** One series of an instant query's vector result. */
export interface PrometheusSample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a range query's matrix result: `[Unix seconds, value]` per step it has a value. */
export interface PrometheusSeries {
  labels: Record<string, string>;
  values: [number, number][];
}

/** One exemplar of a series: its own labels (trace_id, span_id), value and time. */
export interface PrometheusExemplar {
  seriesLabels: Record<string, string>;
  labels: Record<string, string>;
  value: number;
  /** Unix milliseconds. */
  timeMs: number;
}

/** Runs PromQL against Prometheus's HTTP API. */
export class PrometheusClient {
  constructor(private readonly baseUrl: string) {}

  /**
   * An instant query, evaluated now or at `time`; the result must be a vector (NaN values are
   * kept as NaN).
   */
  async query(expression: string, time?: Date): Promise<PrometheusSample[]> {
    const url = new URL('/api/v1/query', this.baseUrl);
    url.searchParams.set('query', expression);
    if (time !== undefined) url.searchParams.set('time', String(time.getTime() / 1000));
    const body = (await getJson(url, 'Prometheus')) as {
      data: {
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
    };
    if (body.data.resultType !== 'vector') {
      throw new Error(`expected a vector from "${expression}", got ${body.data.resultType}`);
    }
    return body.data.result.map((series) => ({
      labels: series.metric,
      value: Number(series.value[1]),
    }));
  }

  /**
   * A range query from `start` to `end` every `stepSeconds`; the result must be a matrix (NaN
   * values are kept as NaN).
   */
  async queryRange(
    expression: string,
    start: Date,
    end: Date,
    stepSeconds: number,
  ): Promise<PrometheusSeries[]> {
    const url = new URL('/api/v1/query_range', this.baseUrl);
    url.searchParams.set('query', expression);
    url.searchParams.set('start', String(start.getTime() / 1000));
    url.searchParams.set('end', String(end.getTime() / 1000));
    url.searchParams.set('step', String(stepSeconds));
    const body = (await getJson(url, 'Prometheus')) as {
      data: {
        resultType: string;
        result: { metric: Record<string, string>; values: [number, string][] }[];
      };
    };
    if (body.data.resultType !== 'matrix') {
      throw new Error(`expected a matrix from "${expression}", got ${body.data.resultType}`);
    }
    return body.data.result.map((series) => ({
      labels: series.metric,
      values: series.values.map(([time, value]): [number, number] => [time, Number(value)]),
    }));
  }

  /**
   * The exemplars of the series `selector` picks between `startMs` and `endMs`, flattened across
   * series. A Prometheus without exemplar storage answers none; one without the API (or a query
   * layer that lacks it) answers an error status, taken as none too.
   */
  async exemplars(selector: string, startMs: number, endMs: number): Promise<PrometheusExemplar[]> {
    const url = new URL('/api/v1/query_exemplars', this.baseUrl);
    url.searchParams.set('query', selector);
    url.searchParams.set('start', String(startMs / 1000));
    url.searchParams.set('end', String(endMs / 1000));
    let body: {
      data:
        | {
            seriesLabels: Record<string, string>;
            exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
          }[]
        | null;
    };
    try {
      body = (await getJson(url, 'Prometheus')) as typeof body;
    } catch (error) {
      if (error instanceof BackendUnreachableError && error.status !== undefined) return [];
      throw error;
    }
    return (body.data ?? []).flatMap(({ seriesLabels, exemplars }) =>
      exemplars.map((exemplar) => ({
        seriesLabels,
        labels: exemplar.labels,
        value: Number(exemplar.value),
        timeMs: exemplar.timestamp * 1000,
      })),
    );
  }
}
