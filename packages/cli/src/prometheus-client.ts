import { getJson } from './http-json.js';

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
}
