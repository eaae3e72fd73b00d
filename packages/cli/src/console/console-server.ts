import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ConsoleApi } from './console-api.js';
import type { ConsoleBackendUrls } from './console-api.js';

/** Options of {@link startConsoleServer}. */
export interface ConsoleServerOptions {
  /** Address to listen on, e.g. 127.0.0.1. */
  host: string;
  /** Port; 0 takes a free one. */
  port: number;
  /** The backends the API reads. */
  backends: ConsoleBackendUrls;
  /** The built page: index.html, app.js and app.css (packages/cli/dist/console-page). */
  assetsDir: string;
  /** When set, every `/api` request must carry `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

/** A console server that listens. */
export interface RunningConsole {
  /** Its base URL, e.g. `http://127.0.0.1:8765`. */
  url: string;
  close(): Promise<void>;
}

/**
 * What the browser may do with the console's pages: its own script and styles only, no inline
 * script or style, no frames, no forms, requests to itself only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** The page's own routes: each answers with index.html, and the page draws the route. */
const PAGE_ROUTES = [/^\/$/, /^\/failures$/, /^\/alerts$/, /^\/traces\/[^/]+$/];

/** Bodies smaller than this go out as they are: compressing them saves less than it costs. */
const COMPRESS_FROM_BYTES = 1024;

/** The gzip of each asset, made once. */
const gzipped = new WeakMap<Buffer, Buffer>();

function gzipOf(body: string | Buffer): Buffer {
  if (typeof body === 'string') return gzipSync(body);
  let compressed = gzipped.get(body);
  if (compressed === undefined) {
    compressed = gzipSync(body);
    gzipped.set(body, compressed);
  }
  return compressed;
}

/**
 * Sends `body` with the security headers, gzip-compressed when it is large enough and the
 * browser takes gzip.
 */
function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  const accepts = /\bgzip\b/.test(String(response.req.headers['accept-encoding'] ?? ''));
  const compress = accepts && Buffer.byteLength(body) >= COMPRESS_FROM_BYTES;
  const sent = compress ? gzipOf(body) : body;
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': String(Buffer.byteLength(sent)),
    vary: 'accept-encoding',
    ...(compress ? { 'content-encoding': 'gzip' } : {}),
    ...headers,
  });
  response.end(sent);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(body), {
    'cache-control': 'no-store',
  });
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Host names a request on a loopback address may name: anything else is a page elsewhere that
 * got the browser to resolve its own name to 127.0.0.1 (DNS rebinding), and is refused.
 */
function isLoopbackHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const name = hostHeader.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/**
 * Starts the console's HTTP server: the page (index.html for every page route, its script and
 * styles), `/healthz`, and the JSON API over the backends. Every answer carries a strict
 * Content-Security-Policy; only GET and HEAD are taken.
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<RunningConsole> {
  const api = new ConsoleApi(options.backends);
  const loopbackOnly = /^(127\.|::1$|localhost$)/.test(options.host);
  const assets = new Map<string, Buffer>();
  const asset = async (file: string): Promise<Buffer> => {
    let content = assets.get(file);
    if (content === undefined) {
      content = await readFile(join(options.assetsDir, file));
      assets.set(file, content);
    }
    return content;
  };
  // Fails here, at start, when the page was never built.
  await Promise.all(['index.html', 'app.js', 'app.css'].map(asset));

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://console.invalid');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain; charset=utf-8', 'only GET\n', { allow: 'GET, HEAD' });
      return;
    }
    if (loopbackOnly && !isLoopbackHost(request.headers.host)) {
      send(response, 421, 'text/plain; charset=utf-8', 'this console answers to 127.0.0.1 only\n');
      return;
    }
    if (url.pathname === '/healthz') {
      send(response, 200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      const authorization = request.headers.authorization ?? '';
      if (options.token !== undefined && !sameSecret(authorization, `Bearer ${options.token}`)) {
        sendJson(response, 401, { error: 'this console needs its bearer token' });
        return;
      }
      const answer = await api.answer(url.pathname, url.searchParams);
      sendJson(response, answer.status, answer.body);
      return;
    }
    const staticAsset = ASSETS[url.pathname];
    if (staticAsset !== undefined) {
      send(response, 200, staticAsset.type, await asset(staticAsset.file), {
        'cache-control': 'no-cache',
      });
      return;
    }
    if (PAGE_ROUTES.some((route) => route.test(url.pathname))) {
      api.prefetch(url.pathname, url.searchParams);
      send(response, 200, 'text/html; charset=utf-8', await asset('index.html'), {
        'cache-control': 'no-cache',
      });
      return;
    }
    send(response, 404, 'text/plain; charset=utf-8', `no page at ${url.pathname}\n`);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      process.stderr.write(`tasklens ui: ${(error as Error).stack ?? String(error)}\n`);
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
