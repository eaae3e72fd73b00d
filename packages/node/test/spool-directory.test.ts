import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpoolDirectory } from '../src/spool-directory.js';
import type { SpoolEntryKind } from '../src/spool-directory.js';
import { SpoolDrainLock } from '../src/spool-drain-lock.js';

function newDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'tasklens-spool-directory-'));
}

/** A body of exactly 100 bytes that names the entry, so the test can tell which survived. */
function body(label: string): Uint8Array {
  return Buffer.from(label.padEnd(100, '.'));
}

async function labels(spool: SpoolDirectory): Promise<string[]> {
  const entries = await spool.list();
  const bodies = await Promise.all(entries.map((entry) => spool.read(entry)));
  return bodies.map((data) =>
    Buffer.from(data ?? [])
      .toString('utf8')
      .replace(/\.+$/, ''),
  );
}

describe('SpoolDirectory', () => {
  it('lists entries oldest first with their kind, item count and size', async () => {
    const spool = new SpoolDirectory(join(newDirectory(), 'service'), 10_000);
    await spool.open();
    await spool.write({ kind: 'traces', items: 3, body: body('first') });
    await spool.write({ kind: 'metrics', items: 7, body: body('second') });

    const entries = await spool.list();
    expect(entries.map(({ kind, items, bytes }) => ({ kind, items, bytes }))).toEqual([
      { kind: 'traces', items: 3, bytes: 100 },
      { kind: 'metrics', items: 7, bytes: 100 },
    ]);
    expect(await labels(spool)).toEqual(['first', 'second']);
  });

  it('when full, evicts successful spans first, then metrics, and failed tasks last', async () => {
    const spool = new SpoolDirectory(join(newDirectory(), 'service'), 300);
    await spool.open();
    const write = async (kind: SpoolEntryKind, label: string) => {
      const result = await spool.write({ kind, items: 1, body: body(label) });
      return { written: result.written, evicted: result.evicted.map((entry) => entry.kind) };
    };

    expect(await write('traces', 'ok-1')).toEqual({ written: true, evicted: [] });
    expect(await write('traces-error', 'error-1')).toEqual({ written: true, evicted: [] });
    expect(await write('metrics', 'metrics-1')).toEqual({ written: true, evicted: [] });
    expect(await write('traces-error', 'error-2')).toEqual({ written: true, evicted: ['traces'] });
    expect(await write('traces-error', 'error-3')).toEqual({ written: true, evicted: ['metrics'] });
    // Only failed tasks' spans are left: a batch of successes is the one that gives way.
    expect(await write('traces', 'ok-2')).toEqual({ written: false, evicted: ['traces'] });
    expect(await write('traces-error', 'error-4')).toEqual({
      written: true,
      evicted: ['traces-error'],
    });
    expect(await labels(spool)).toEqual(['error-2', 'error-3', 'error-4']);
  });

  it('skips half-written files and removes those a killed writer left behind', async () => {
    const path = join(newDirectory(), 'service');
    const spool = new SpoolDirectory(path, 10_000);
    await spool.open();
    await spool.write({ kind: 'traces', items: 1, body: body('whole') });
    const abandoned = join(path, '.1700000000000-99999-000001.traces.1.100.json.tmp');
    const inProgress = join(path, '.1700000000001-99998-000001.traces.1.100.json.tmp');
    writeFileSync(abandoned, 'half a fi');
    writeFileSync(inProgress, 'being wri');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(abandoned, twoMinutesAgo, twoMinutesAgo);
    writeFileSync(join(path, 'notes.txt'), 'not ours');

    expect(await labels(spool)).toEqual(['whole']);
    expect(readdirSync(path).sort()).toEqual(
      [
        '.1700000000001-99998-000001.traces.1.100.json.tmp',
        'notes.txt',
        (await spool.list())[0]?.name,
      ].sort(),
    );
  });

  it('refuses to write where no directory can be', async () => {
    const file = join(newDirectory(), 'a-file');
    writeFileSync(file, '');
    const spool = new SpoolDirectory(join(file, 'service'), 10_000);
    await expect(spool.open()).rejects.toThrow(/ENOTDIR|EEXIST/);
    await expect(spool.write({ kind: 'traces', items: 1, body: body('x') })).rejects.toThrow();
  });
});

describe('SpoolDrainLock', () => {
  it('lets one holder at a time drain, and is free again once released', async () => {
    const path = newDirectory();
    const first = new SpoolDrainLock(path);
    const second = new SpoolDrainLock(path);

    expect(await first.acquire()).toBe(true);
    expect(await second.acquire()).toBe(false);
    await first.release();
    expect(await second.acquire()).toBe(true);
    await second.release();
  });

  it('takes over the lock of a process that died while draining', async () => {
    const path = newDirectory();
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(exited.stdout.toString());
    writeFileSync(join(path, 'drain.lock'), JSON.stringify({ pid: deadPid, host: hostname() }));

    const lock = new SpoolDrainLock(path);
    expect(await lock.acquire()).toBe(true);
    await lock.release();
  });

  it('leaves a live process its lock, and takes an unrefreshed one from another host', async () => {
    const path = newDirectory();
    const file = join(path, 'drain.lock');
    writeFileSync(file, JSON.stringify({ pid: process.pid, host: 'other-host' }));
    const lock = new SpoolDrainLock(path);
    expect(await lock.acquire()).toBe(false);

    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(file, aMinuteAgo, aMinuteAgo);
    expect(await lock.acquire()).toBe(true);
    await lock.release();
  });
});
