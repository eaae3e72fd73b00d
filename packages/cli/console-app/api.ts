/**
 * The page's calls to its server's `/api`: the bearer token, JSON, and the problems the server
 * reports as {@link ProblemBody}.
 */
import type { BackendProblem, ProblemBody } from '../src/console/api-types';

const TOKEN_KEY = 'tasklens-console-token';

/** A call that did not give its answer: a backend's problem, or the server's own status. */
export class ApiError extends Error {
  constructor(
    /** HTTP status, 0 when the console's server did not answer at all. */
    readonly status: number,
    message: string,
    /** The backend's problem, when the server reported one. */
    readonly problem?: BackendProblem,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Takes `#token=...` from the address once (as `tasklens ui` prints it), keeps it for this tab
 * and takes it out of the visible address, so it is not shared by copying the URL.
 */
export function adoptTokenFromAddress(): void {
  const match = /^#token=([^&]*)/.exec(location.hash);
  if (!match) return;
  try {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1] ?? ''));
  } catch {
    // Storage refused (private mode, quota): the token is lost at the next load, not now.
    tokenInMemory = decodeURIComponent(match[1] ?? '');
  }
  history.replaceState(history.state, '', location.pathname + location.search);
}

let tokenInMemory: string | undefined;

function token(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? tokenInMemory;
  } catch {
    return tokenInMemory;
  }
}

function isProblemBody(value: unknown): value is ProblemBody {
  if (typeof value !== 'object' || value === null || !('problem' in value)) return false;
  const problem = value.problem;
  return (
    typeof problem === 'object' &&
    problem !== null &&
    typeof (problem as BackendProblem).message === 'string'
  );
}

/** `/api/<path>?<parameters>`, leaving out empty parameters. */
export function apiPath(path: string, parameters: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== '') search.set(name, value);
  }
  const query = search.toString();
  return `/api/${path}${query ? `?${query}` : ''}`;
}

/**
 * GETs `/api/<path>` and parses its JSON.
 *
 * @throws ApiError when the server cannot be reached or answers other than 2xx.
 */
export async function getJson<T>(
  path: string,
  parameters: Record<string, string | undefined> = {},
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const bearer = token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let response: Response;
  try {
    response = await fetch(apiPath(path, parameters), { headers, signal, cache: 'no-store' });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, 'The console’s server did not answer. Is “tasklens ui” still running?');
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (response.ok && body !== undefined) return body as T;
  if (isProblemBody(body)) throw new ApiError(response.status, body.problem.message, body.problem);
  if (response.status === 401 || response.status === 403) {
    throw new ApiError(
      response.status,
      'The console’s server wants its access token: open the address “tasklens ui” printed, with its #token=… part.',
    );
  }
  throw new ApiError(
    response.status,
    `The console’s server answered ${response.status} ${response.statusText}`.trim(),
  );
}

/** True for the error a superseded call's abort throws, which is nobody's problem. */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
