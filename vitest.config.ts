import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/*
 * The naming rule picks the project, no file list: a test that needs a broker (Redis, RabbitMQ,
 * NATS), a backend binary (collector, Prometheus, Jaeger, promtool, amtool, Alertmanager) or the
 * native stack is named `*.integration.test.ts`; any other `*.test.ts` is a unit test, runs in
 * seconds with none of them, and belongs to `npm run test:unit` (`--project unit`).
 */
const TEST_FOLDERS = ['packages/*/test/**', 'deploy/test/**'];
const UNIT = TEST_FOLDERS.map((folder) => `${folder}/*.test.ts`);
const INTEGRATION = TEST_FOLDERS.map((folder) => `${folder}/*.integration.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share brokers and the native stack; files run one at a time.
    fileParallelism: false,
    // Processes the tests start keep what their collector does not take here, never in the
    // user's own spool (tests that check the spool give each process a folder of its own).
    env: { TASKLENS_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'tasklens-test-spool-')) },
    projects: [
      // Negated patterns, not `exclude`: a project's exclude would replace the --exclude flags the
      // test matrix passes (scripts/test-matrix.json, through scripts/matrix.js and run-tests.js).
      {
        extends: true,
        test: {
          name: 'unit',
          // Unit tests share nothing outside their own process (free ports, own spool folders),
          // and mostly wait on child processes and timers: two files at once, where the default
          // is one fewer than the CPUs (one on a 2-CPU machine).
          fileParallelism: true,
          maxWorkers: 2,
          include: [...UNIT, ...INTEGRATION.map((glob) => `!${glob}`)],
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: INTEGRATION },
      },
    ],
  },
});
