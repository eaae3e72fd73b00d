// A plain HTTP reverse proxy on 127.0.0.1 that counts what passes through it: put in front of a
// backend (Prometheus, Jaeger, Alertmanager), it tells how many requests a client made to it and
// to which paths, how long the backend took to answer them, and how many response bytes came back.
import { Agent, createServer, request as httpRequest } from 'node:http';

/**
 * Starts a proxy forwarding every request to `target` (a base URL such as
 * `http://127.0.0.1:9090`). Returns its `url`, `snapshot()` (requests, response bytes, requests
 * per `METHOD /path`, the longest of them from request to the answer's last byte in ms and its
 * URL),
 * `reset()` and `close()`.
 */
export async function startCountingProxy(target) {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let requests = 0;
  let responseBytes = 0;
  let byPath = new Map();
  let slowestByPath = new Map();
  let slowestUrl = new Map();

  const server = createServer((incoming, outgoing) => {
    const path = new URL(incoming.url ?? '/', 'http://proxy.invalid').pathname;
    const key = `${incoming.method} ${path}`;
    requests += 1;
    byPath.set(key, (byPath.get(key) ?? 0) + 1);
    const started = performance.now();
    const forwarded = httpRequest(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk) => {
          responseBytes += chunk.length;
        });
        answer.on('end', () => {
          const ms = performance.now() - started;
          if (ms > (slowestByPath.get(key) ?? 0)) {
            slowestByPath.set(key, ms);
            slowestUrl.set(key, incoming.url);
          }
        });
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(`counting proxy: ${error.message}\n`);
    });
    incoming.pipe(forwarded);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    snapshot: () => ({
      requests,
      responseBytes,
      byPath: Object.fromEntries(byPath),
      slowestByPath: Object.fromEntries(slowestByPath),
      slowestUrl: Object.fromEntries(slowestUrl),
    }),
    reset: () => {
      requests = 0;
      responseBytes = 0;
      byPath = new Map();
      slowestByPath = new Map();
      slowestUrl = new Map();
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
