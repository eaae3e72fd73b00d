import { defineConfig } from 'vitest/config';

// The long chaos run only (`npm run chaos`); the short form runs with every other test.
export default defineConfig({
  test: {
    include: ['chaos/**/*.test.ts'],
    hookTimeout: 120_000,
  },
});
