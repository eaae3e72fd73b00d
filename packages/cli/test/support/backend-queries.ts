import { failuresCommand } from '../../src/commands/failures.js';
import type { TaskFailure } from '../../src/commands/failures.js';

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

/**
 * What `tasklens failures --json` lists from the Jaeger at `jaegerUrl`, with `args` (filters such
 * as `--service S --since 15m`) added; throws when the command does not exit 0.
 */
export async function listFailures(jaegerUrl: string, args: string[]): Promise<TaskFailure[]> {
  let printed = '';
  const code = await failuresCommand([...args, '--json', '--jaeger-url', jaegerUrl], {
    stdout: (text) => (printed += text),
    stderr: (text) => (printed += text),
  });
  if (code !== 0) throw new Error(`tasklens failures exited ${code}: ${printed}`);
  return JSON.parse(printed) as TaskFailure[];
}
