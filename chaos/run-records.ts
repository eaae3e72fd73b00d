/* What the chaos producer and workers wrote down: every job added and every attempt run. */
import { open, readFile } from 'node:fs/promises';

/** One job the producer added. */
export interface JobRecord {
  job: string;
  phase: string;
}

/** One attempt a worker started, and how it ended if it did. */
export interface AttemptRecord {
  job: string;
  /** The attempt number the worker's `process` span carries (`task.attempt`). */
  attempt: number;
  /** Trace and span id of the attempt's `process` span. */
  trace: string;
  span: string;
  /** The worker process that ran it. */
  pid: number;
  /** How long the attempt was to work. */
  workMs: number;
  startedAt: number;
  endedAt?: number;
  outcome?: 'success' | 'failure';
  /** Whether BullMQ will not run the job again after this attempt. */
  final?: boolean;
}

interface AttemptLine extends Omit<AttemptRecord, 'startedAt' | 'endedAt'> {
  event: 'start' | 'end';
  at: number;
}

function parseLines<T>(text: string): T[] {
  const parsed: T[] = [];
  for (const line of text.split('\n')) {
    // A line cut by a kill -9 or by reading a file's tail is skipped, not an error.
    try {
      if (line !== '') parsed.push(JSON.parse(line) as T);
    } catch {
      continue;
    }
  }
  return parsed;
}

async function readLines<T>(file: string): Promise<T[]> {
  try {
    return parseLines<T>(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function attemptsOf(lines: AttemptLine[]): AttemptRecord[] {
  const bySpan = new Map<string, AttemptRecord>();
  for (const { event, at, ...fields } of lines) {
    if (event === 'start') {
      bySpan.set(fields.span, { ...fields, startedAt: at });
    } else {
      const started = bySpan.get(fields.span);
      if (started !== undefined) Object.assign(started, fields, { endedAt: at });
    }
  }
  return [...bySpan.values()];
}

/** The jobs the producer added, in order. */
export function readJobs(jobsFile: string): Promise<JobRecord[]> {
  return readLines<JobRecord>(jobsFile);
}

/** Every attempt the workers recorded, ended or not. */
export async function readAttempts(attemptsFile: string): Promise<AttemptRecord[]> {
  return attemptsOf(await readLines<AttemptLine>(attemptsFile));
}

/** Attempts among the last `bytes` of the file: the ones a worker runs now are there. */
export async function readRecentAttempts(
  attemptsFile: string,
  bytes = 64 * 1024,
): Promise<AttemptRecord[]> {
  const file = await open(attemptsFile, 'r');
  try {
    const { size } = await file.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return attemptsOf(parseLines<AttemptLine>(buffer.toString('utf8')));
  } finally {
    await file.close();
  }
}

/** Jobs of `jobs` that have not reached their last attempt's end yet. */
export function unsettledJobs(jobs: JobRecord[], attempts: AttemptRecord[]): string[] {
  const settled = new Set(
    attempts.filter((attempt) => attempt.final === true).map((attempt) => attempt.job),
  );
  return jobs.filter((job) => !settled.has(job.job)).map((job) => job.job);
}
