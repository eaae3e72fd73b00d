import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expectedBinaryPaths, expectedPromtoolPath } from '@tasklens/stack';

/** The repository root, whatever directory the tests run from. */
export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** The promtool that scripts/setup.sh builds with Prometheus (the version of deploy/versions.json). */
export const PROMTOOL = await expectedPromtoolPath(REPO_DIR);

/** The Jaeger v2 that scripts/setup.sh builds (the version of deploy/versions.json). */
export const JAEGER = (await expectedBinaryPaths(REPO_DIR)).jaeger;

/** Exit status, stdout, and combined stdout + stderr of one run of a command-line tool. */
export interface ToolResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly output: string;
}

/**
 * Runs a tool installed by scripts/setup.sh ({@link PROMTOOL}, amtool, {@link JAEGER}) from the
 * repository root, with `env` added to this process's environment. A missing tool is an error that
 * says how to install it, so a test never passes by skipping the check.
 */
export function runTool(
  tool: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): ToolResult {
  const result = spawnSync(tool, args, {
    cwd: REPO_DIR,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error(`${basename(tool)} is not installed (${tool}): run bash scripts/setup.sh`);
    }
    throw result.error;
  }
  return {
    status: result.status,
    stdout: result.stdout,
    output: `${result.stdout}${result.stderr}`,
  };
}
