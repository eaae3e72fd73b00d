import type { JaegerClient } from './jaeger-client.js';

const PROBE_TIMEOUT_MS = 1_500;

async function answers(url: URL): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How to link a trace so that the link opens a page that is there: the console's trace page when
 * the console at `consoleUrl` answers; else Jaeger's UI when Jaeger serves one (the Jaeger image
 * does, Jaeger built from its Go module serves a placeholder instead); else Jaeger's JSON of the
 * trace. Two requests at most, once per command.
 */
export async function traceLinks(
  consoleUrl: string,
  jaeger: JaegerClient,
): Promise<(traceId: string) => string> {
  if ((await answers(new URL('/healthz', consoleUrl))) !== undefined) {
    return (traceId) => new URL(`/traces/${traceId}`, consoleUrl).toString();
  }
  const home = await answers(new URL('/', jaeger.baseUrl));
  if (home !== undefined && !home.includes('not the Jaeger UI')) {
    return (traceId) => jaeger.traceUrl(traceId);
  }
  return (traceId) => new URL(`/api/traces/${traceId}`, jaeger.baseUrl).toString();
}
