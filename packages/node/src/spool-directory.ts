import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a spooled file holds, which is also its rank when the spool is full: success-only span
 * batches are evicted first, then metric exports, and batches holding a failed task's span last.
 */
export type SpoolEntryKind = 'traces' | 'metrics' | 'traces-error';

const EVICTION_RANK: Record<SpoolEntryKind, number> = {
  traces: 0,
  metrics: 1,
  'traces-error': 2,
};

/** One OTLP/HTTP request body kept on disk, as named in the directory. */
export interface SpoolEntry {
  name: string;
  /** When it was spooled, in ms since the epoch. */
  spooledAt: number;
  kind: SpoolEntryKind;
  /** Spans in a traces batch; data points in a metric export. */
  items: number;
  bytes: number;
}

/** An entry to write. */
export interface NewSpoolEntry {
  kind: SpoolEntryKind;
  items: number;
  body: Uint8Array;
}

/** What {@link SpoolDirectory.write} did. */
export interface SpoolWriteResult {
  written: boolean;
  /** Entries removed to stay under the cap (the new one too, when it ranked lowest). */
  evicted: SpoolEntry[];
}

// <13-digit ms time>-<pid>-<6-digit sequence>.<kind>.<items>.<bytes>.json: sorting names sorts by
// time, and listing the directory tells sizes and ranks without opening a file.
const ENTRY_NAME = /^(\d{13})-(\d+)-(\d{6})\.(traces|metrics|traces-error)\.(\d+)\.(\d+)\.json$/;
const TEMP_PREFIX = '.';
const TEMP_SUFFIX = '.tmp';
/** A temporary file this old was left by a process killed while writing it. */
const ABANDONED_TEMP_MS = 60_000;

function parseEntry(name: string): SpoolEntry | undefined {
  const match = ENTRY_NAME.exec(name);
  if (match === null) return undefined;
  return {
    name,
    spooledAt: Number(match[1]),
    kind: match[4] as SpoolEntryKind,
    items: Number(match[5]),
    bytes: Number(match[6]),
  };
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * A directory of OTLP request bodies waiting for the collector, shared by every process of one
 * service. Each file is written whole under a temporary name and renamed into place, so a reader
 * never sees half a file; a temporary file left by a killed writer is skipped and later removed.
 * The total size stays under `maxBytes` by evicting the lowest-ranked, oldest entries.
 */
export class SpoolDirectory {
  private sequence = 0;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
  ) {}

  /** Creates the directory. Throws when it cannot be created. */
  async open(): Promise<void> {
    await mkdir(this.path, { recursive: true, mode: 0o700 });
  }

  /** The entries, oldest first. Removes abandoned temporary files on the way. */
  async list(): Promise<SpoolEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    const entries: SpoolEntry[] = [];
    for (const name of names.sort()) {
      if (name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)) {
        await this.removeIfAbandoned(name);
        continue;
      }
      const entry = parseEntry(name);
      if (entry !== undefined) entries.push(entry);
    }
    return entries;
  }

  /** Reads an entry's body; `undefined` when another process removed it meanwhile. */
  async read(entry: SpoolEntry): Promise<Uint8Array | undefined> {
    try {
      return await readFile(join(this.path, entry.name));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Removes an entry; `false` when it was already gone. */
  async remove(entry: SpoolEntry): Promise<boolean> {
    try {
      await unlink(join(this.path, entry.name));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /**
   * Adds an entry, first evicting what ranks lowest (then oldest) until it fits under the cap.
   * When the new entry itself ranks lowest, it is not written. Throws when the file system
   * refuses the write (read-only, full, gone).
   */
  async write(entry: NewSpoolEntry): Promise<SpoolWriteResult> {
    this.sequence = (this.sequence + 1) % 1_000_000;
    const spooledAt = Date.now();
    const name = `${String(spooledAt).padStart(13, '0')}-${process.pid}-${String(this.sequence).padStart(6, '0')}.${entry.kind}.${entry.items}.${entry.body.byteLength}.json`;
    const incoming: SpoolEntry = {
      name,
      spooledAt,
      kind: entry.kind,
      items: entry.items,
      bytes: entry.body.byteLength,
    };
    const evicted: SpoolEntry[] = [];
    const existing = await this.list();
    let total = existing.reduce((sum, current) => sum + current.bytes, 0) + incoming.bytes;
    if (total > this.maxBytes) {
      // Lowest rank first; within a rank the oldest first, the incoming entry being the newest.
      const candidates = [...existing, incoming].sort(
        (a, b) => EVICTION_RANK[a.kind] - EVICTION_RANK[b.kind] || a.name.localeCompare(b.name),
      );
      for (const candidate of candidates) {
        if (total <= this.maxBytes) break;
        if (candidate === incoming) return { written: false, evicted: [...evicted, incoming] };
        if (await this.remove(candidate)) evicted.push(candidate);
        total -= candidate.bytes;
      }
    }
    const temporary = join(this.path, `${TEMP_PREFIX}${name}${TEMP_SUFFIX}`);
    await writeFile(temporary, entry.body, { mode: 0o600 });
    await rename(temporary, join(this.path, name));
    return { written: true, evicted };
  }

  private async removeIfAbandoned(name: string): Promise<void> {
    const file = join(this.path, name);
    try {
      if (Date.now() - (await stat(file)).mtimeMs > ABANDONED_TEMP_MS) await unlink(file);
    } catch {
      // Renamed into place or removed by another process meanwhile.
    }
  }
}
