import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'deploy/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share brokers and the native stack; files run one at a time.
    fileParallelism: false,
    // Processes the tests start keep what their collector does not take here, never in the
    // user's own spool (tests that check the spool give each process a folder of its own).
    env: { TASKLENS_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'tasklens-test-spool-')) },
  },
});
