import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stackPortsFrom } from '../src/components.js';
import { startStack, stopStack } from '../src/stack.js';
import type { RunningStack } from '../src/types.js';

// Below the ephemeral port range, apart from the other test files' stacks.
const PORTS = stackPortsFrom(21100);

const TOKEN = randomBytes(16).toString('hex');

function traceBody(): string {
  const end = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'tasklens-auth-test' } }],
        },
        scopeSpans: [
          {
            scope: { name: 'tasklens-auth-test' },
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
                name: 'auth-test',
                kind: 1,
                startTimeUnixNano: (end - 1_000_000n).toString(),
                endTimeUnixNano: end.toString(),
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('collector bearer-token auth (deploy/collector/auth.yaml)', () => {
  let stateDir: string;
  let stack: RunningStack;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tasklens-stack-auth-'));
    stack = await startStack({ stateDir, ports: PORTS, bearerToken: TOKEN });
  }, 120_000);

  afterAll(async () => {
    await stopStack(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  }, 60_000);

  async function exportTrace(headers: Record<string, string>): Promise<number> {
    const response = await fetch(`${stack.endpoints.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: traceBody(),
    });
    await response.body?.cancel();
    return response.status;
  }

  it('rejects an export without a token with 401', async () => {
    expect(await exportTrace({})).toBe(401);
  });

  it('rejects an export with a wrong token with 401', async () => {
    expect(await exportTrace({ authorization: 'Bearer not-the-token' })).toBe(401);
  });

  it('accepts an export with the token', async () => {
    expect(await exportTrace({ authorization: `Bearer ${TOKEN}` })).toBe(200);
  });

  it('keeps the token off the command line', () => {
    for (const component of stack.components) {
      expect(component.command.join(' ')).not.toContain(TOKEN);
    }
  });
});
