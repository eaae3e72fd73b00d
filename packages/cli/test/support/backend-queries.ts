import { failuresCommand } from '../../src/commands/failures.js';
import type { TaskFailure } from '../../src/jaeger-failures.js';

/** GETs `url` and parses its JSON body; throws with the status and body when it is not 2xx. */
export async function getJson(url: URL | string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${String(url)}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** One element of a Prometheus instant-query result vector. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs an instant PromQL query against the Prometheus at `prometheusUrl`. */
export async function promQuery(prometheusUrl: string, expression: string): Promise<PromSample[]> {
  const url = new URL('/api/v1/query', prometheusUrl);
  url.searchParams.set('query', expression);
  const body = (await getJson(url)) as { data: { result: PromSample[] } };
  return body.data.result;
}

/** One exemplar Prometheus stored: its labels (trace_id, span_id), value and time. */
export interface PromExemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

/**
 * The exemplars of the series `expression` selects over the last `sinceSeconds`, from the
 * Prometheus at `prometheusUrl` (`/api/v1/query_exemplars`), flattened across series.
 */
export async function promExemplars(
  prometheusUrl: string,
  expression: string,
  sinceSeconds: number,
): Promise<(PromExemplar & { seriesLabels: Record<string, string> })[]> {
  const url = new URL('/api/v1/query_exemplars', prometheusUrl);
  const now = Date.now() / 1000;
  url.searchParams.set('query', expression);
  url.searchParams.set('start', String(now - sinceSeconds));
  url.searchParams.set('end', String(now + 60));
  const body = (await getJson(url)) as {
    data: { seriesLabels: Record<string, string>; exemplars: PromExemplar[] }[];
  };
  return body.data.flatMap(({ seriesLabels, exemplars }) =>
    exemplars.map((exemplar) => ({ ...exemplar, seriesLabels })),
  );
}

/**
 * What `tasklens failures --json` lists with `args`: where Jaeger is (`--jaeger-url U` or
 * `--state-dir D`) and filters such as `--service S --since 15m`; throws when the command does
 * not exit 0.
 */
export async function listFailures(args: string[]): Promise<TaskFailure[]> {
  let printed = '';
  const code = await failuresCommand([...args, '--json'], {
    stdout: (text) => (printed += text),
    stderr: (text) => (printed += text),
  });
  if (code !== 0) throw new Error(`tasklens failures exited ${code}: ${printed}`);
  return JSON.parse(printed) as TaskFailure[];
}
