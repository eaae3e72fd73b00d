/*
 * The console's HTTP server on its own: what it serves, the headers every answer carries, who it
 * answers, and what its API says when a backend is not there (every backend here is a closed
 * port). The pages themselves are tested in a browser by console-end-to-end.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '@tasklens/test-utils';
import type { ProblemBody } from '../src/console/api-types.js';
import { CONTENT_SECURITY_POLICY, startConsoleServer } from '../src/console/console-server.js';
import type { RunningConsole } from '../src/console/console-server.js';

const TOKEN = 'console-test-token';
const STYLES = `body{}\n${'.row{color:#222}\n'.repeat(300)}`;
let assetsDir: string;
let open: RunningConsole;
let guarded: RunningConsole;
let prometheusUrl: string;

beforeAll(async () => {
  assetsDir = await mkdtemp(join(tmpdir(), 'tasklens-console-assets-'));
  await writeFile(join(assetsDir, 'index.html'), '<!doctype html><title>tasklens</title>');
  await writeFile(join(assetsDir, 'app.js'), 'export {};');
  await writeFile(join(assetsDir, 'app.css'), STYLES);
  prometheusUrl = `http://127.0.0.1:${await closedPort()}`;
  const backends = {
    prometheus: prometheusUrl,
    jaeger: `http://127.0.0.1:${await closedPort()}`,
    alertmanager: `http://127.0.0.1:${await closedPort()}`,
  };
  open = await startConsoleServer({ host: '127.0.0.1', port: 0, backends, assetsDir });
  guarded = await startConsoleServer({
    host: '127.0.0.1',
    port: 0,
    backends,
    assetsDir,
    token: TOKEN,
  });
});

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  await rm(assetsDir, { recursive: true, force: true });
});

/** A raw request, so that the Host header can be any. */
function get(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the console server', () => {
  it('serves the page for each of its routes, with a strict Content-Security-Policy', async () => {
    for (const path of ['/', '/failures?task=x', '/alerts', `/traces/${'a'.repeat(32)}`]) {
      const response = await get(`${open.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.body).toContain('<title>tasklens</title>');
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });

  it('serves its script and styles, and nothing else of the disk', async () => {
    expect((await get(`${open.url}/assets/app.js`)).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await get(`${open.url}/assets/app.css`)).status).toBe(200);
    for (const path of ['/assets/index.html', '/assets/../app.js', '/nothing', '/traces/a/b']) {
      expect((await get(`${open.url}${path}`)).status, path).toBe(404);
    }
  });

  it('sends gzip to a browser that takes it, and the bytes as they are to one that does not', async () => {
    const compressed = await fetch(`${open.url}/assets/app.css`);
    expect(compressed.headers.get('content-encoding')).toBe('gzip');
    expect(Number(compressed.headers.get('content-length'))).toBeLessThan(STYLES.length / 4);
    expect(await compressed.text()).toBe(STYLES);
    const plain = await get(`${open.url}/assets/app.css`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(STYLES);
  });

  it('takes GET and HEAD only', async () => {
    expect((await get(`${open.url}/`, {}, 'POST')).status).toBe(405);
    expect((await get(`${open.url}/healthz`, {}, 'HEAD')).status).toBe(200);
  });

  it('refuses a request that names another host (DNS rebinding)', async () => {
    const response = await get(`${open.url}/api/tasks`, { host: 'attacker.example:8765' });
    expect(response.status).toBe(421);
    expect((await get(`${open.url}/healthz`, { host: 'localhost' })).status).toBe(200);
  });

  it('names the backend that is down and how to start it', async () => {
    const response = await get(`${open.url}/api/tasks?range=1h`);
    expect(response.status).toBe(502);
    const { problem } = JSON.parse(response.body) as ProblemBody;
    expect(problem).toMatchObject({ backend: 'prometheus', url: prometheusUrl });
    expect(problem.message).toContain('not reachable');
    expect(problem.hint).toContain('tasklens stack up');
    const alerts = JSON.parse((await get(`${open.url}/api/alerts`)).body) as ProblemBody;
    expect(alerts.problem.backend).toBe('alertmanager');
    const backends = JSON.parse((await get(`${open.url}/api/backends`)).body) as {
      backends: { name: string; up: boolean }[];
    };
    expect(backends.backends.map(({ name, up }) => [name, up])).toEqual([
      ['prometheus', false],
      ['jaeger', false],
      ['alertmanager', false],
    ]);
  });

  it('answers 400 to a bad range, trace id or outcome, and 404 to an unknown API', async () => {
    expect((await get(`${open.url}/api/tasks?range=2y`)).status).toBe(400);
    expect((await get(`${open.url}/api/traces/not-hex`)).status).toBe(400);
    expect((await get(`${open.url}/api/failures?outcome=success`)).status).toBe(400);
    expect((await get(`${open.url}/api/tasks/series?range=1h`)).status).toBe(400);
    expect((await get(`${open.url}/api/nothing`)).status).toBe(404);
  });

  it('asks for its bearer token on the API, not on the page', async () => {
    expect((await get(`${guarded.url}/api/tasks`)).status).toBe(401);
    expect((await get(`${guarded.url}/api/tasks`, { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    const authorized = await get(`${guarded.url}/api/tasks`, {
      authorization: `Bearer ${TOKEN}`,
    });
    expect(authorized.status).toBe(502);
    expect((await get(`${guarded.url}/`)).status).toBe(200);
  });

  it('starts the first API call of a page with the page, and shares it with the page', async () => {
    // A Prometheus that counts what it is asked and answers every query with an error.
    let queries = 0;
    const prometheus = createServer((_request, response) => {
      queries += 1;
      response.writeHead(503).end('overloaded');
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    const shared = await startConsoleServer({
      host: '127.0.0.1',
      port: 0,
      assetsDir,
      backends: {
        prometheus: `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`,
        jaeger: `http://127.0.0.1:${await closedPort()}`,
        alertmanager: `http://127.0.0.1:${await closedPort()}`,
      },
    });
    try {
      expect((await get(`${shared.url}/?range=6h`)).status).toBe(200);
      const first = await get(`${shared.url}/api/tasks?range=6h`);
      // The first failed query answers the call; the others of the same call may still be on
      // their way: wait until none arrives for a while.
      for (let seen = -1; seen !== queries;) {
        seen = queries;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const afterFirst = queries;
      expect(afterFirst).toBeGreaterThan(0);
      const again = await get(`${shared.url}/api/tasks?range=6h`);
      expect(again).toMatchObject({ status: first.status, body: first.body });
      expect(queries).toBe(afterFirst);
      await get(`${shared.url}/api/tasks?range=24h`);
      expect(queries).toBeGreaterThan(afterFirst);
    } finally {
      await shared.close();
      await new Promise((resolve) => prometheus.close(resolve));
    }
  });
});
