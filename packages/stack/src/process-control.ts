import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process started by {@link spawnDetached}. */
export interface SpawnedProcess {
  /** Process id. */
  pid: number;
  /** Start time in clock ticks since boot, from /proc. */
  startTicks: number;
}

/**
 * Starts `command` in its own session, detached from this process, with stdout and stderr appended
 * to `logFile`, so it outlives a `tasklens stack up` that exits.
 */
export async function spawnDetached(
  command: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  logFile: string,
): Promise<SpawnedProcess> {
  const [executable, ...args] = command;
  if (executable === undefined) {
    throw new Error('empty command');
  }
  const log = await open(logFile, 'a');
  try {
    const child = spawn(executable, args, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        if (child.pid === undefined) {
          reject(new Error(`${executable} did not start`));
        } else {
          resolve(child.pid);
        }
      });
    });
    child.unref();
    const startTicks = await processStartTicks(pid);
    return { pid, startTicks: startTicks ?? 0 };
  } finally {
    await log.close();
  }
}

/** Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22), or undefined. */
export async function processStartTicks(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

async function processCommandLine(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part) => part !== '');
  } catch {
    return undefined;
  }
}

async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is still the process we started: alive, not a zombie, same command line and same
 * start time. A reused pid answers false, so we never signal someone else's process.
 */
export async function isSameProcess(
  pid: number,
  command: string[],
  startTicks: number,
): Promise<boolean> {
  const current = await processCommandLine(pid);
  if (current === undefined || current.length !== command.length) {
    return false;
  }
  if (!current.every((part, index) => part === command[index])) {
    return false;
  }
  if ((await processStartTicks(pid)) !== startTicks) {
    return false;
  }
  return !(await isZombie(pid));
}

/**
 * Sends SIGTERM to the process (checked with {@link isSameProcess} first), waits up to
 * `graceMs` for it to exit, then sends SIGKILL.
 *
 * @returns `not-running` when it was not (or no longer) our process, `stopped` when it exited on
 *   SIGTERM, `killed` when it needed SIGKILL
 */
export async function terminateProcess(
  pid: number,
  command: string[],
  startTicks: number,
  graceMs = 10_000,
): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!(await isSameProcess(pid, command, startTicks))) {
    return 'not-running';
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(100);
    if (!(await isSameProcess(pid, command, startTicks))) {
      return 'stopped';
    }
  }
  if (await isSameProcess(pid, command, startTicks)) {
    process.kill(pid, 'SIGKILL');
    while (await isSameProcess(pid, command, startTicks)) {
      await sleep(50);
    }
  }
  return 'killed';
}
