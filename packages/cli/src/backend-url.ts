import { resolve } from 'node:path';
import { defaultStateDir, recordedStackEndpoints } from '@tasklens/stack';
import type { StackEndpoints } from '@tasklens/stack';
import { UsageError } from './usage-error.js';

/** Where a query command may find the URL of its backend (Jaeger, Prometheus). */
export interface BackendUrlSources {
  /** The command's URL option, e.g. `--jaeger-url`, and its value when given. */
  option: string;
  given: string | undefined;
  /** `--state-dir`, when given: the stack recorded there. */
  stateDir: string | undefined;
  /** The environment variable, e.g. `TASKLENS_JAEGER_URL`. */
  envVar: string;
  /** The backend's URL in a recorded stack. */
  fromStack: (endpoints: StackEndpoints) => string;
  /** The URL when nothing names one: the backend on its usual port. */
  fallback: string;
}

/**
 * The backend's URL, from the first of: the URL option; the stack recorded in `--state-dir` (a
 * usage error when none is recorded there); the environment variable; the stack recorded in the
 * default state directory, so that `tasklens stack up --port-base N` needs nothing more; the
 * fallback. Throws a usage error for a URL that is not http(s).
 */
export function backendUrl(sources: BackendUrlSources): string {
  const { option, stateDir } = sources;
  let url = sources.given;
  if (url === undefined && stateDir !== undefined) {
    const endpoints = recordedStackEndpoints(stateDir);
    if (endpoints === undefined) {
      throw new UsageError(
        `--state-dir: no stack is recorded in ${resolve(stateDir)} ` +
          `(start one with: tasklens stack up --state-dir ${stateDir})`,
      );
    }
    url = sources.fromStack(endpoints);
  }
  url ??= process.env[sources.envVar];
  if (url === undefined) {
    const endpoints = recordedStackEndpoints(defaultStateDir());
    url = endpoints === undefined ? sources.fallback : sources.fromStack(endpoints);
  }
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`${option} "${url}" is not an http(s) URL`);
  }
  return url;
}
