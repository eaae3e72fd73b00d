import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../dist/tasklens.js', import.meta.url));

/** How one `tasklens` process ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A new empty spool directory, so that no run writes to the user's spool or sees another's. */
export function newSpoolDir(): string {
  return mkdtempSync(join(tmpdir(), 'tasklens-cli-spool-'));
}

/**
 * Runs the built `tasklens` command with `args` in an environment of only PATH, a spool
 * directory of its own and `env`; `onStdout` sees the output so far after every chunk.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (text: string, child: ChildProcess) => void,
  stdin?: string,
): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, TASKLENS_SPOOL_DIR: newSpoolDir(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onStdout?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}
