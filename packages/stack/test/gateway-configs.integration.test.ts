/*
 * deploy/gateway/ on the collector the native stack runs: `otelcol validate` accepts the agent with
 * each resolver and the gateway (both resolvers also run, in
 * packages/cli/test/gateway-end-to-end.integration.test.ts), and the docker-compose profile runs
 * the same files.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';

import { expectedBinaryPaths, SETUP_HINT } from '../src/binaries.js';

const repoDir = fileURLToPath(new URL('../../../', import.meta.url));

async function collectorValidate(
  configs: string[],
): Promise<{ status: number | null; output: string }> {
  const { collector } = await expectedBinaryPaths(repoDir);
  const result = spawnSync(
    collector,
    ['validate', ...configs.flatMap((config) => ['--config', join(repoDir, config)])],
    { encoding: 'utf8' },
  );
  expect(result.error, `${collector}: ${SETUP_HINT}`).toBeUndefined();
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy/gateway', () => {
  it.each([
    [['deploy/gateway/agent.yaml', 'deploy/gateway/resolver-static.yaml']],
    [['deploy/gateway/agent.yaml', 'deploy/gateway/resolver-dns.yaml']],
    [['deploy/gateway/gateway.yaml']],
  ])('the collector accepts %j', async (configs) => {
    const { status, output } = await collectorValidate(configs);
    expect(status, output).toBe(0);
  });

  it('the agent without a resolver file is refused', async () => {
    const { status } = await collectorValidate(['deploy/gateway/agent.yaml']);
    expect(status).not.toBe(0);
  });

  it('the compose profile gateway runs the same files', () => {
    const compose = load(readFileSync(join(repoDir, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { profiles?: string[]; command?: string[]; volumes?: string[] }>;
    };
    const profiled = Object.entries(compose.services)
      .filter(([, service]) => service.profiles?.includes('gateway') === true)
      .map(([name]) => name)
      .sort();
    expect(profiled).toEqual(['gateway-1', 'gateway-2', 'otel-agent']);
    expect(compose.services['otel-agent']?.command).toEqual([
      '--config=/etc/tasklens/gateway/agent.yaml',
      '--config=/etc/tasklens/gateway/resolver-static.yaml',
      // The metrics store's overlay when asked for, else the resolver again (a no-op merge).
      '--config=${TASKLENS_COLLECTOR_METRICS_CONFIG:-/etc/tasklens/gateway/resolver-static.yaml}',
    ]);
    for (const name of profiled) {
      expect(compose.services[name]?.volumes).toContain(
        './deploy/gateway:/etc/tasklens/gateway:ro',
      );
    }
  });
});
