import { resolve } from 'node:path';
import { defaultStateDir, recordedStackEndpoints } from '@tasklens/stack';
import type { StackEndpoints } from '@tasklens/stack';
import { UsageError } from './usage-error.js';

/** What a command may read: a backend of the stack, or the console. */
export type BackendName = 'prometheus' | 'jaeger' | 'alertmanager' | 'console';

/** Each backend on its usual port, where nothing else names one. */
export const DEFAULT_BACKEND_URLS: Readonly<Record<BackendName, string>> = Object.freeze({
  prometheus: 'http://127.0.0.1:9090',
  jaeger: 'http://127.0.0.1:16686',
  alertmanager: 'http://127.0.0.1:9093',
  console: 'http://127.0.0.1:8765',
});

/** How a command is told where a backend is: its option, its variable, and a recorded stack's. */
const SOURCES: Record<
  BackendName,
  { envVar: string; fromStack: (endpoints: StackEndpoints) => string | undefined }
> = {
  // With the metrics store, the store's query API answers the task queries.
  prometheus: {
    envVar: 'TASKLENS_PROMETHEUS_URL',
    fromStack: (endpoints) => endpoints.storeQuery ?? endpoints.prometheus,
  },
  jaeger: { envVar: 'TASKLENS_JAEGER_URL', fromStack: (endpoints) => endpoints.jaegerQuery },
  alertmanager: {
    envVar: 'TASKLENS_ALERTMANAGER_URL',
    fromStack: (endpoints) => endpoints.alertmanager,
  },
  console: { envVar: 'TASKLENS_CONSOLE_URL', fromStack: (endpoints) => endpoints.console },
};

/**
 * The URL of `backend`, from the first of: `given` (its `--<backend>-url` option); the stack
 * recorded in `stateDir` (`--state-dir`; a usage error when none is recorded there); its
 * environment variable (`TASKLENS_<BACKEND>_URL`); the stack recorded in the default state
 * directory, so that `tasklens stack up --port-base N` needs nothing more; its usual port. A
 * recorded stack without it (a console left out with `--no-ui`) gives the usual port too. Throws
 * a usage error for a URL that is not http(s).
 */
export function backendUrl(
  backend: BackendName,
  given: string | undefined,
  stateDir: string | undefined,
): string {
  const { envVar, fromStack } = SOURCES[backend];
  const fromRecorded = (endpoints: StackEndpoints): string =>
    fromStack(endpoints) ?? DEFAULT_BACKEND_URLS[backend];
  let url = given;
  if (url === undefined && stateDir !== undefined) {
    const endpoints = recordedStackEndpoints(stateDir);
    if (endpoints === undefined) {
      throw new UsageError(
        `--state-dir: no stack is recorded in ${resolve(stateDir)} ` +
          `(start one with: tasklens stack up --state-dir ${stateDir})`,
      );
    }
    url = fromRecorded(endpoints);
  }
  url ??= process.env[envVar];
  if (url === undefined) {
    const endpoints = recordedStackEndpoints(defaultStateDir());
    url = endpoints === undefined ? DEFAULT_BACKEND_URLS[backend] : fromRecorded(endpoints);
  }
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`--${backend}-url "${url}" is not an http(s) URL`);
  }
  return url;
}
