import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';

// require(), not import: importing node:http builds a module namespace of all its exports, which on
// Node.js >= 22 reads its lazy WebSocket exports and so loads the whole fetch implementation
// (undici), some 20 ms at every start of a short job. node:https (TLS) loads only when an https
// endpoint is used.
const require = createRequire(import.meta.url);

/** The content type of the SDK's OTLP JSON serializers' output, which is what tasklens sends. */
export const OTLP_JSON = 'application/json';

/** Where one signal's OTLP/HTTP requests go. */
export interface OtlpTarget {
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
}

/**
 * How one request ended. `retryable`: the collector may take it later (refused or reset
 * connection, timeout, 429, 502, 503, 504); `rejected`: it never will (any other status).
 */
export type OtlpPostResult =
  | { status: 'success' }
  | { status: 'retryable'; error: Error; retryAfterMs?: number }
  | { status: 'rejected'; error: Error };

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const MAX_RESPONSE_BYTES = 64 * 1024;

function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function statusResult(response: Http.IncomingMessage, body: string): OtlpPostResult {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return { status: 'success' };
  const error = new Error(
    `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}${body ? `: ${body.slice(0, 200)}` : ''}`,
  );
  return RETRYABLE_STATUS.has(status)
    ? { status: 'retryable', error, retryAfterMs: retryAfterMs(response.headers['retry-after']) }
    : { status: 'rejected', error };
}

/** How requests go out for one URL scheme: its module's `request` and a keep-alive agent. */
interface Transport {
  request: typeof Http.request;
  agent: Http.Agent;
}

function createTransport(secure: boolean): Transport {
  if (secure) {
    const https = require('node:https') as typeof Https;
    return { request: https.request, agent: new https.Agent({ keepAlive: true }) };
  }
  const http = require('node:http') as typeof Http;
  return { request: http.request, agent: new http.Agent({ keepAlive: true }) };
}

/**
 * Sends OTLP/HTTP request bodies, one attempt each: retrying is the spool's job, so a process
 * whose collector refuses connections learns it in one round trip instead of spending its flush
 * timeout on backoff. Keeps connections alive between requests; `close()` drops them.
 */
export class OtlpHttpPoster {
  private http: Transport | undefined;
  private https: Transport | undefined;

  /**
   * POSTs `body` (`contentType`) to `target`; never rejects. A kept-alive connection that the
   * collector closed just as the request went out is the one failure tried again at once, on a
   * new connection: the request never reached the collector.
   */
  async post(target: OtlpTarget, body: Uint8Array, contentType: string): Promise<OtlpPostResult> {
    const first = await this.postOnce(target, body, contentType);
    return first.staleConnection
      ? (await this.postOnce(target, body, contentType)).result
      : first.result;
  }

  private postOnce(
    target: OtlpTarget,
    body: Uint8Array,
    contentType: string,
  ): Promise<{ result: OtlpPostResult; staleConnection: boolean }> {
    return new Promise((resolve) => {
      const url = new URL(target.url);
      const transport =
        url.protocol === 'https:'
          ? (this.https ??= createTransport(true))
          : (this.http ??= createTransport(false));
      let settled = false;
      let answered = false;
      const finish = (result: OtlpPostResult, staleConnection = false): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ result, staleConnection });
      };
      let request: Http.ClientRequest;
      try {
        request = transport.request(
          url,
          {
            method: 'POST',
            agent: transport.agent,
            headers: {
              ...target.headers,
              'Content-Type': contentType,
              'Content-Length': body.byteLength,
            },
          },
          (response) => {
            answered = true;
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              if (text.length < MAX_RESPONSE_BYTES) text += chunk;
            });
            response.on('end', () => finish(statusResult(response, text)));
            response.on('error', (error) => finish({ status: 'retryable', error }));
          },
        );
      } catch (error) {
        // A request that cannot even be built (a header with a bad character) never will be.
        resolve({
          result: {
            status: 'rejected',
            error: error instanceof Error ? error : new Error(String(error)),
          },
          staleConnection: false,
        });
        return;
      }
      // A deadline for the whole exchange, not just an idle socket.
      const timer = setTimeout(() => {
        const error = new Error(`no answer within ${target.timeoutMs} ms`);
        request.destroy(error);
        finish({ status: 'retryable', error });
      }, target.timeoutMs);
      timer.unref();
      // Connection errors (refused, reset, unknown host) are worth a later try.
      request.on('error', (error) =>
        finish({ status: 'retryable', error }, request.reusedSocket && !answered),
      );
      request.end(body);
    });
  }

  /** Closes idle kept-alive connections. */
  close(): void {
    this.http?.agent.destroy();
    this.https?.agent.destroy();
  }
}
