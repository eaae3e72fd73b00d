/*
 * `tasklens ui` as a user starts it: the built command, the address it prints, the warning off
 * loopback, its bearer token, and a clean stop on SIGTERM.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '@tasklens/test-utils';
import { runCli } from './support/cli-process.js';

let dir: string;
let backends: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tasklens-ui-'));
  backends = [
    '--prometheus-url',
    `http://127.0.0.1:${await closedPort()}`,
    '--jaeger-url',
    `http://127.0.0.1:${await closedPort()}`,
    '--alertmanager-url',
    `http://127.0.0.1:${await closedPort()}`,
  ];
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Starts `tasklens ui` with `args`, reads the console's URL it prints, runs `probe` on it, then
 * stops it with SIGTERM.
 */
async function withConsole(
  args: string[],
  probe: (url: string) => Promise<void>,
): Promise<{ code: number | null; stderr: string }> {
  let probed: Promise<void> | undefined;
  const run = await runCli(['ui', '--port', '0', ...backends, ...args], {}, (stdout, child) => {
    const url = /tasklens console: (http:\/\/\S+)/.exec(stdout)?.[1];
    if (url === undefined || probed !== undefined) return;
    probed = probe(url).finally(() => child.kill('SIGTERM'));
  });
  await probed;
  return { code: run.code, stderr: run.stderr };
}

describe('tasklens ui', () => {
  it('serves the console on 127.0.0.1, says where, and stops on SIGTERM with exit code 0', async () => {
    const result = await withConsole([], async (url) => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await fetch(`${url}/failures`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('/assets/app.js');
      expect((await fetch(`${url}/assets/app.js`)).status).toBe(200);
      expect((await fetch(`${url}/api/tasks`)).status).toBe(502);
    });
    expect(result).toEqual({ code: 0, stderr: '' });
  });

  it('warns when it listens beyond loopback, and then asks for its token', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 's3cret\n');
    const result = await withConsole(
      ['--host', '0.0.0.0', '--token-file', tokenFile],
      async (url) => {
        const local = url.replace('0.0.0.0', '127.0.0.1');
        expect((await fetch(`${local}/api/tasks`)).status).toBe(401);
        const authorized = await fetch(`${local}/api/tasks`, {
          headers: { authorization: 'Bearer s3cret' },
        });
        expect(authorized.status).toBe(502);
      },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: listening on 0.0.0.0, not loopback');
    expect(result.stderr).not.toContain('no token is set');
  });

  it('says so when the port is taken, with exit code 1', async () => {
    const first = await withConsole([], async (url) => {
      const port = new URL(url).port;
      const second = await runCli(['ui', '--port', port, ...backends]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
    });
    expect(first.code).toBe(0);
  });
});
