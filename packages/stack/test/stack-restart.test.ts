/*
 * restartStackComponent's refusals, on a hand-written state directory (no binaries, no ports):
 * its successful restarts of the collector, Jaeger and Prometheus are exercised by the chaos
 * suite (packages/cli/test/chaos-end-to-end.integration.test.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stackPortsFrom } from '../src/components.js';
import { processStartTicks } from '../src/process-control.js';
import { restartStackComponent } from '../src/stack.js';

let stateDir: string;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-restart-'));
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('restartStackComponent', () => {
  it('refuses when no stack is recorded in the state directory', async () => {
    await expect(restartStackComponent(stateDir, 'collector')).rejects.toThrow(
      `no collector is recorded in ${stateDir}; start the stack first`,
    );
  });

  it('refuses to start a second copy of a component that still runs', async () => {
    // This test's own process stands for a collector that is still running.
    const command = (await readFile(`/proc/${process.pid}/cmdline`, 'utf8'))
      .split('\0')
      .filter((part) => part !== '');
    const state = {
      version: 1,
      startedAt: new Date().toISOString(),
      // Never listened on: the refusal comes before anything starts.
      ports: stackPortsFrom(21700),
      components: [
        {
          name: 'collector',
          pid: process.pid,
          command,
          startTicks: await processStartTicks(process.pid),
          logFile: join(stateDir, 'logs', 'collector.log'),
          readyUrl: 'http://127.0.0.1:21702/',
        },
      ],
    };
    await writeFile(join(stateDir, 'stack.json'), JSON.stringify(state));
    await expect(restartStackComponent(stateDir, 'collector')).rejects.toThrow(
      `collector (pid ${process.pid}) is still running; stop it before a restart`,
    );
  });
});
