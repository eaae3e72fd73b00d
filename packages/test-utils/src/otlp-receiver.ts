/**
 * A minimal OTLP/HTTP JSON receiver for tests: a node:http server on 127.0.0.1 that accepts
 * `POST /v1/traces` and `POST /v1/metrics` (optionally gzip-encoded), answers 200, and keeps the
 * decoded spans and metric points in memory. Protobuf bodies get 415 so a misconfigured exporter
 * fails loudly.
 *
 * ```ts
 * const receiver = await startOtlpReceiver();
 * // point the exporter at receiver.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)
 * expect(receiver.spans().map((span) => span.name)).toEqual(['child-task']);
 * await receiver.close();
 * ```
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A decoded attribute value: OTLP `AnyValue` as plain JSON (int64 as number). */
export type AttributeValue =
  string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

/** One received span, with its resource and scope. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** `undefined` for a root span. */
  parentSpanId: string | undefined;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string | undefined };
  events: { name: string; attributes: Attributes }[];
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  resource: Attributes;
  scope: { name: string; version: string | undefined };
}

/** One received metric data point, with its metric, resource and scope. */
export interface ReceivedMetricPoint {
  metric: string;
  unit: string | undefined;
  type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
  /** For sums and histograms. */
  temporality: 'cumulative' | 'delta' | undefined;
  /** For sums. */
  monotonic: boolean | undefined;
  attributes: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Sum and gauge value. */
  value: number | undefined;
  /** Histogram fields. */
  count: number | undefined;
  sum: number | undefined;
  bucketCounts: number[] | undefined;
  explicitBounds: number[] | undefined;
  /** Histogram exemplars (ids in hex); empty when the point has none. */
  exemplars: ReceivedExemplar[];
  resource: Attributes;
  scope: { name: string; version: string | undefined };
}

/** One exemplar of a received data point. */
export interface ReceivedExemplar {
  value: number | undefined;
  timeUnixNano: bigint;
  traceId: string;
  spanId: string;
}

/** A request the receiver accepted, body decoded as JSON. */
export interface ReceivedRequest {
  path: '/v1/traces' | '/v1/metrics';
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface OtlpReceiver {
  /** Base endpoint, e.g. `http://127.0.0.1:43817`, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** Every accepted request, in arrival order. */
  requests(): readonly ReceivedRequest[];
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /**
   * Every metric data point received so far, optionally only those of one metric. The zero
   * point @tasklens/node sends at the start of each new counter and histogram series (its time is
   * its start time) is left out unless `withStartPoints`.
   */
  metricPoints(metric?: string, options?: { withStartPoints?: boolean }): ReceivedMetricPoint[];
  /**
   * Resolves once `check()` is true, re-checking after every request; rejects with `message`
   * after `timeoutMs` (default 10000). For long-lived exporters; after a child process has exited
   * everything it flushed has already arrived.
   */
  waitUntil(check: () => boolean, message: string, timeoutMs?: number): Promise<void>;
  /**
   * From now on answers every request with `status`, keeping only what it answers 200: a
   * collector that is overloaded (503) or refuses the data (400).
   */
  respondWith(status: number): void;
  /** Forgets everything received so far (between tests sharing one receiver). */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null ? (value as Json) : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '') return Number(value);
  return undefined;
}

function asBigInt(value: unknown): bigint {
  return typeof value === 'string' || typeof value === 'number' ? BigInt(value) : 0n;
}

function decodeAnyValue(value: unknown): AttributeValue {
  const any = asObject(value);
  if ('stringValue' in any) return asString(any.stringValue) ?? '';
  if ('boolValue' in any) return any.boolValue === true;
  if ('intValue' in any) return asNumber(any.intValue) ?? 0;
  if ('doubleValue' in any) return asNumber(any.doubleValue) ?? 0;
  if ('arrayValue' in any) return asArray(asObject(any.arrayValue).values).map(decodeAnyValue);
  if ('kvlistValue' in any) return decodeAttributes(asObject(any.kvlistValue).values);
  if ('bytesValue' in any) return asString(any.bytesValue) ?? '';
  return null;
}

function decodeAttributes(keyValues: unknown): Attributes {
  const attributes: Attributes = {};
  for (const entry of asArray(keyValues)) {
    const { key, value } = asObject(entry);
    if (typeof key === 'string') attributes[key] = decodeAnyValue(value);
  }
  return attributes;
}

function decodeScope(scope: unknown): ReceivedSpan['scope'] {
  const { name, version } = asObject(scope);
  return { name: asString(name) ?? '', version: asString(version) || undefined };
}

function decodeSpans(body: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of asArray(asObject(body).resourceSpans)) {
    const resource = decodeAttributes(asObject(asObject(resourceSpans).resource).attributes);
    for (const scopeSpans of asArray(asObject(resourceSpans).scopeSpans)) {
      const scope = decodeScope(asObject(scopeSpans).scope);
      for (const raw of asArray(asObject(scopeSpans).spans)) {
        const span = asObject(raw);
        const status = asObject(span.status);
        spans.push({
          traceId: asString(span.traceId) ?? '',
          spanId: asString(span.spanId) ?? '',
          parentSpanId: asString(span.parentSpanId) || undefined,
          name: asString(span.name) ?? '',
          kind: asNumber(span.kind) ?? 0,
          startTimeUnixNano: asBigInt(span.startTimeUnixNano),
          endTimeUnixNano: asBigInt(span.endTimeUnixNano),
          attributes: decodeAttributes(span.attributes),
          status: {
            code: asNumber(status.code) ?? 0,
            message: asString(status.message) || undefined,
          },
          events: asArray(span.events).map((event) => ({
            name: asString(asObject(event).name) ?? '',
            attributes: decodeAttributes(asObject(event).attributes),
          })),
          links: asArray(span.links).map((link) => ({
            traceId: asString(asObject(link).traceId) ?? '',
            spanId: asString(asObject(link).spanId) ?? '',
            attributes: decodeAttributes(asObject(link).attributes),
          })),
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

const METRIC_TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const;

function decodeTemporality(value: unknown): ReceivedMetricPoint['temporality'] {
  const number = asNumber(value);
  if (number === 1) return 'delta';
  if (number === 2) return 'cumulative';
  return undefined;
}

function decodeMetricPoints(body: unknown): ReceivedMetricPoint[] {
  const points: ReceivedMetricPoint[] = [];
  for (const resourceMetrics of asArray(asObject(body).resourceMetrics)) {
    const resource = decodeAttributes(asObject(asObject(resourceMetrics).resource).attributes);
    for (const scopeMetrics of asArray(asObject(resourceMetrics).scopeMetrics)) {
      const scope = decodeScope(asObject(scopeMetrics).scope);
      for (const raw of asArray(asObject(scopeMetrics).metrics)) {
        const metric = asObject(raw);
        const type = METRIC_TYPES.find((candidate) => candidate in metric);
        if (type === undefined) continue;
        const data = asObject(metric[type]);
        for (const rawPoint of asArray(data.dataPoints)) {
          const point = asObject(rawPoint);
          points.push({
            metric: asString(metric.name) ?? '',
            unit: asString(metric.unit) || undefined,
            type,
            temporality: decodeTemporality(data.aggregationTemporality),
            monotonic: typeof data.isMonotonic === 'boolean' ? data.isMonotonic : undefined,
            attributes: decodeAttributes(point.attributes),
            startTimeUnixNano: asBigInt(point.startTimeUnixNano),
            timeUnixNano: asBigInt(point.timeUnixNano),
            value: asNumber(point.asInt) ?? asNumber(point.asDouble),
            count: asNumber(point.count),
            sum: asNumber(point.sum),
            bucketCounts: Array.isArray(point.bucketCounts)
              ? point.bucketCounts.map((count) => asNumber(count) ?? 0)
              : undefined,
            explicitBounds: Array.isArray(point.explicitBounds)
              ? point.explicitBounds.map((bound) => asNumber(bound) ?? 0)
              : undefined,
            exemplars: asArray(point.exemplars).map((raw) => {
              const exemplar = asObject(raw);
              return {
                value: asNumber(exemplar.asDouble) ?? asNumber(exemplar.asInt),
                timeUnixNano: asBigInt(exemplar.timeUnixNano),
                traceId: asString(exemplar.traceId) ?? '',
                spanId: asString(exemplar.spanId) ?? '',
              };
            }),
            resource,
            scope,
          });
        }
      }
    }
  }
  return points;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

/** Starts a receiver on 127.0.0.1 at `port`, by default a free one. */
/** The zero point @tasklens/node sends at a new cumulative series' start: its time is its start. */
function isSeriesStartPoint(point: ReceivedMetricPoint): boolean {
  return (
    point.timeUnixNano === point.startTimeUnixNano &&
    ((point.type === 'histogram' && point.count === 0) ||
      (point.type === 'sum' && point.value === 0))
  );
}

export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  let status = 200;
  const arrivals = new EventEmitter();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = request.url?.split('?')[0];
    if (request.method !== 'POST' || (path !== '/v1/traces' && path !== '/v1/metrics')) {
      response.writeHead(404).end();
      return;
    }
    if (!request.headers['content-type']?.startsWith('application/json')) {
      response.writeHead(415, { 'content-type': 'text/plain' }).end('only OTLP/HTTP JSON');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request)).toString('utf8'));
    } catch {
      response.writeHead(400).end();
      return;
    }
    if (status !== 200) {
      response.writeHead(status).end();
      return;
    }
    requests.push({ path, headers: request.headers, body });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    arrivals.emit('request');
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    requests: () => requests,
    respondWith: (next) => {
      status = next;
    },
    reset: () => {
      requests.length = 0;
    },
    spans: () =>
      requests.filter((r) => r.path === '/v1/traces').flatMap((r) => decodeSpans(r.body)),
    metricPoints: (metric, { withStartPoints = false } = {}) =>
      requests
        .filter((r) => r.path === '/v1/metrics')
        .flatMap((r) => decodeMetricPoints(r.body))
        .filter((point) => metric === undefined || point.metric === metric)
        .filter((point) => withStartPoints || !isSeriesStartPoint(point)),
    waitUntil(check, message, timeoutMs = 10_000) {
      if (check()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const onRequest = (): void => {
          if (!check()) return;
          clearTimeout(timer);
          arrivals.off('request', onRequest);
          resolve();
        };
        const timer = setTimeout(() => {
          arrivals.off('request', onRequest);
          reject(new Error(message));
        }, timeoutMs);
        arrivals.on('request', onRequest);
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
