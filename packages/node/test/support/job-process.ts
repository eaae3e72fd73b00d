import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/run-tasks.mjs', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** A new empty spool directory, so that no test writes to the user's spool or sees another's. */
export function newSpoolDir(): string {
  return mkdtempSync(join(tmpdir(), 'tasklens-test-spool-'));
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Span ids of the tasks the child reported finished, in order. */
  doneSpanIds: string[];
}

export interface RunningChild {
  /** Resolves once the child has reported `count` finished tasks; returns their span ids. */
  tasksDone(count: number): Promise<string[]>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<ChildExit>;
}

/**
 * The parent's environment without any OTel or tasklens settings that would leak in, and with a
 * spool directory of its own.
 */
function cleanEnv(): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        !entry[0].startsWith('OTEL_') &&
        !entry[0].startsWith('TASKLENS_'),
    ),
  );
  return { ...inherited, TASKLENS_SPOOL_DIR: newSpoolDir() };
}

/**
 * Runs test/fixtures/run-tasks.mjs (see its header for the variables it reads) with `env` over
 * a clean environment.
 */
export function startChild(env: Record<string, string>, nodeOptions: string[] = []): RunningChild {
  const child = spawn(process.execPath, [...nodeOptions, FIXTURE], {
    cwd: PACKAGE_DIR,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const doneSpanIds: string[] = [];
  const waiters: { count: number; resolve: (ids: string[]) => void }[] = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  let partialLine = '';
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    const lines = (partialLine + chunk).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('done ')) doneSpanIds.push(line.slice('done '.length));
    }
    for (const waiter of waiters.filter((w) => doneSpanIds.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve([...doneSpanIds]);
    }
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<ChildExit>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal, stdout, stderr, doneSpanIds });
    });
  });
  return {
    tasksDone: (count) =>
      doneSpanIds.length >= count
        ? Promise.resolve([...doneSpanIds])
        : new Promise((resolve) => waiters.push({ count, resolve })),
    kill: (signal) => child.kill(signal),
    exited,
  };
}
