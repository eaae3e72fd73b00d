/** A backend (Jaeger, Prometheus) could not be reached or answered with an error. */
export class BackendUnreachableError extends Error {
  override readonly name = 'BackendUnreachableError';

  /**
   * @param summary - what happened, without advice (the console shows its own)
   * @param advice - what to do, appended to the message the commands print
   * @param url - what was asked for
   * @param status - the backend's HTTP status when it answered, `undefined` when it did not
   */
  constructor(
    readonly summary: string,
    advice: string | undefined,
    readonly url: URL,
    readonly status?: number,
  ) {
    super(advice === undefined ? summary : `${summary}; ${advice}`);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

/** GETs `url` and parses JSON; unreachable backends and error statuses become {@link BackendUnreachableError}. */
export async function getJson(url: URL, what: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new BackendUnreachableError(
      `${what} at ${url.origin} is not reachable (${cause})`,
      'start it with `tasklens stack up` or pass its URL',
      url,
    );
  }
  if (!response.ok) {
    const body = (await response.text()).slice(0, 300);
    throw new BackendUnreachableError(
      `${what} answered ${response.status} for ${url.pathname}: ${body}`,
      undefined,
      url,
      response.status,
    );
  }
  return response.json();
}
