// Wall time of one short process, as a user's shell or cron daemon sees it.
import { spawnSync } from 'node:child_process';

/**
 * Runs `executable args` to its end with only PATH and `env` in its environment and returns the
 * wall time in milliseconds; throws when it exits with a non-zero code.
 */
export function wallTimeMs(executable, args, env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(executable, args, {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${executable} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return ms;
}
