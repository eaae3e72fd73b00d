import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

const ALL = ['packages/*/test/**/*.test.ts', 'deploy/test/**/*.test.ts'];

/**
 * Tests that need no broker, no backend binary and no native stack, and run in seconds:
 * `npm run test:unit`. Everything else is the `integration` project.
 */
const UNIT = [
  'packages/core/test/**/*.test.ts',
  'packages/test-utils/test/**/*.test.ts',
  'packages/node/test/config.test.ts',
  'packages/node/test/default-diag-logger.test.ts',
  'packages/node/test/exit-hooks.test.ts',
  'packages/node/test/spool-directory.test.ts',
  'packages/node/test/start-telemetry.test.ts',
  'packages/amqplib/test/instrument-channel.test.ts',
  'packages/nats/test/open-deliveries.test.ts',
  'packages/cli/test/cli-arguments.test.ts',
  'packages/cli/test/chaos-settings.test.ts',
  'packages/cli/test/stack-command.test.ts',
  'packages/cli/test/stack-files.test.ts',
];

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
      { extends: true, test: { name: 'unit', include: UNIT } },
      // Negated patterns, not `exclude`: a project's exclude would replace the --exclude flags the
      // test matrix passes.
      {
        extends: true,
        test: { name: 'integration', include: [...ALL, ...UNIT.map((glob) => `!${glob}`)] },
      },
    ],
  },
});
