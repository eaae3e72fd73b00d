import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** A lock not refreshed for this long belongs to a process that died (or hangs) mid-drain. */
const STALE_LOCK_MS = 30_000;
const LOCK_FILE = 'drain.lock';

interface LockOwner {
  pid: number;
  host: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Lets one process of a service at a time send the spool's files, so that none is sent twice.
 * The lock is a file created exclusively, holding its owner's pid and host name. It is taken over
 * when its owner, on this host, no longer runs, or (another host sharing the directory) when it
 * was not refreshed for 30 s.
 */
export class SpoolDrainLock {
  private readonly file: string;
  private readonly owner: LockOwner = { pid: process.pid, host: hostname() };
  private held = false;

  constructor(directory: string) {
    this.file = join(directory, LOCK_FILE);
  }

  /** Takes the lock if it is free or stale; `false` when another live process holds it. */
  async acquire(): Promise<boolean> {
    if (this.held) return true;
    if (await this.create()) return true;
    if (!(await this.isStale())) return false;
    await unlink(this.file).catch(() => undefined);
    return this.create();
  }

  /** Marks the lock as still in use during a long drain. */
  async refresh(): Promise<void> {
    if (!this.held) return;
    const now = new Date();
    await utimes(this.file, now, now).catch(() => undefined);
  }

  /** Gives the lock up, if held. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await unlink(this.file).catch(() => undefined);
  }

  private async create(): Promise<boolean> {
    try {
      const handle = await open(this.file, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(this.owner));
      } finally {
        await handle.close();
      }
      this.held = true;
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  private async isStale(): Promise<boolean> {
    try {
      const [text, info] = await Promise.all([readFile(this.file, 'utf8'), stat(this.file)]);
      let owner: Partial<LockOwner> = {};
      try {
        owner = JSON.parse(text) as Partial<LockOwner>;
      } catch {
        // Written by a process killed between create and write: judged by its age below.
      }
      if (owner.host === this.owner.host && typeof owner.pid === 'number') {
        return !isAlive(owner.pid);
      }
      return Date.now() - info.mtimeMs > STALE_LOCK_MS;
    } catch {
      // Released meanwhile: free to take.
      return true;
    }
  }
}
