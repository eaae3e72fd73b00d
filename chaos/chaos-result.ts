/* What a chaos run measured, phase by phase, and when that counts as a loss. */
import type { ChaosOptions } from './chaos-options.js';
import type { SampledRange } from './range-sampler.js';

/** The spool's size cap per service (@tasklens/node's default, TASKLENS_SPOOL_MAX_MIB). */
export const SPOOL_CAP_BYTES = 100 * 1024 * 1024;

/** Where a phase's numbers come from: `expected` is what ran, `found` what a backend holds. */
export interface Count {
  expected: number;
  found: number;
}

/** An attempt that died with the killed worker, and the job's next attempt. */
export interface LostAttempt {
  job: string;
  attempt: number;
  trace: string;
  pid: number;
  next?: { attempt: number; pid: number; outcome?: string; inJaeger: boolean };
}

/** The numbers of one phase. */
export interface PhaseResult {
  name: string;
  /** What was done to the stack or the worker. */
  disruption: string;
  /** Jobs added during the phase, and how many ran to their last attempt. */
  tasks: Count;
  /** Jobs whose trace holds the worker's `process` span for every attempt that ended. */
  traces: Count;
  /** Attempts that ended (the workers' records) and attempts counted in Prometheus. */
  attempts: Count;
  /**
   * Attempts that ended in the killed worker after its last export: their span and their count
   * died in its memory with it. Not a loss of the pipeline; always 0 outside the worker phase.
   */
  unexportedAtKill: { spans: number; attempts: number };
  /** Attempts that were running when the worker was killed (worker phase only). */
  lostWithWorker: LostAttempt[];
  /**
   * Those attempts (expected: the killed worker's records) and the attempts Prometheus counts
   * with outcome `lost`, which the job's next attempt records for the one that died.
   */
  lostCounted: Count;
  /** The spool counters' increase during the phase; undefined while the spool metric is absent. */
  spool: { spooled?: number; replayed?: number; dropped?: number };
  /** Worker RSS before the outage and during it (until the phase's traffic stops). */
  rss: { before?: SampledRange; during?: SampledRange };
  /** The largest size of the worker's spool folder from the kill to the end of the phase. */
  spoolMaxBytes: number;
  /** Job ids whose trace misses an ended attempt (the first few). */
  missingTraces: string[];
}

/**
 * Whether what the backends had at the end of each phase is still there after the later phases'
 * kills, looked up again at the end of the run.
 */
export interface HistoryResult {
  /** The task traces found complete at their phase's end. */
  traces: Count;
  /** Phases whose attempt total in Prometheus, queried at the phase's end time, is unchanged. */
  attemptTotals: Count;
}

/** What {@link runChaos} measured. */
export interface ChaosResult {
  queue: string;
  options: ChaosOptions;
  phases: PhaseResult[];
  history: HistoryResult;
  /** The run's directory (stack state and logs, records, spools); kept when something was lost. */
  directory: string;
}

/** Whether what was found at the phases' ends was lost later. */
export function historyLost(history: HistoryResult): boolean {
  return (
    history.traces.found < history.traces.expected ||
    history.attemptTotals.found < history.attemptTotals.expected
  );
}

/**
 * Whether a phase lost anything (a job not run, a trace or an attempt not found) or broke a
 * bound the spool promises (its folder above its cap).
 */
export function phaseLost(phase: PhaseResult): boolean {
  return (
    phase.spoolMaxBytes > SPOOL_CAP_BYTES ||
    phase.tasks.found < phase.tasks.expected ||
    phase.traces.found < phase.traces.expected ||
    phase.attempts.found < phase.attempts.expected ||
    phase.lostCounted.found < phase.lostCounted.expected
  );
}
