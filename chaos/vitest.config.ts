import { defineConfig } from 'vitest/config';

// The long chaos run only (`npm run chaos`); the short form runs with every other test. Its
// progress and report go to stdout as they are, without vitest's per-line headers.
export default defineConfig({
  test: {
    include: ['chaos/**/*.test.ts'],
    disableConsoleIntercept: true,
  },
});
