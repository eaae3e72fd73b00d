import { BackendUnreachableError, getJson } from './http-json.js';

/** A span as Jaeger's query API (`/api/traces`) returns it, reduced to what tasklens reads. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  tags: { key: string; type: string; value: unknown }[];
  logs?: { timestamp: number; fields: { key: string; value: unknown }[] }[];
  references?: { refType: string; traceID: string; spanID: string }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** Reads traces from Jaeger's HTTP query API (the one its UI uses; Jaeger v1 and v2). */
export class JaegerClient {
  constructor(readonly baseUrl: string) {}

  /** The services Jaeger knows, without Jaeger's own. */
  async services(): Promise<string[]> {
    const body = (await getJson(new URL('/api/services', this.baseUrl), 'Jaeger')) as {
      data: string[] | null;
    };
    return (body.data ?? []).filter((service) => !service.startsWith('jaeger'));
  }

  /** Traces of `service` between `startMs` and `endMs` that have a span with all of `tags`. */
  async findTraces(
    service: string,
    tags: Record<string, string>,
    startMs: number,
    endMs: number,
    limit: number,
  ): Promise<JaegerTrace[]> {
    const url = new URL('/api/traces', this.baseUrl);
    url.searchParams.set('service', service);
    url.searchParams.set('tags', JSON.stringify(tags));
    url.searchParams.set('start', String(Math.floor(startMs * 1000)));
    url.searchParams.set('end', String(Math.ceil(endMs * 1000)));
    url.searchParams.set('limit', String(limit));
    const body = (await getJson(url, 'Jaeger')) as { data: JaegerTrace[] | null };
    return body.data ?? [];
  }

  /**
   * One whole trace by its id, or `undefined` when Jaeger does not hold it (never stored, or
   * dropped by its retention).
   */
  async trace(traceId: string): Promise<JaegerTrace | undefined> {
    const url = new URL(`/api/traces/${encodeURIComponent(traceId)}`, this.baseUrl);
    try {
      const body = (await getJson(url, 'Jaeger')) as { data: JaegerTrace[] | null };
      return body.data?.[0];
    } catch (error) {
      if (error instanceof BackendUnreachableError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The link to a trace in Jaeger's UI. */
  traceUrl(traceId: string): string {
    return new URL(`/trace/${traceId}`, this.baseUrl).toString();
  }
}
