/* What a chaos run does: its rate, outage lengths and waits, with the long form's defaults. */
import { parseDuration } from '../packages/cli/src/duration.js';
import type { StackPorts } from '@tasklens/stack';

/** Settings of one chaos run. */
export interface ChaosOptions {
  /** Tasks added per second, all through the run. */
  rate: number;
  /** How long the collector stays down after its kill -9. */
  collectorOutageMs: number;
  /** How long Jaeger stays down after its kill -9. */
  jaegerOutageMs: number;
  /** How long Prometheus stays down after its kill -9. */
  prometheusOutageMs: number;
  /** How long no worker runs after the worker's kill -9. */
  workerOutageMs: number;
  /** Steady traffic before each outage and again after each restart. */
  steadyMs: number;
  /** After a phase's tasks have all settled, how long telemetry may take to reach the backends. */
  telemetryWaitMs: number;
  /** The worker's BullMQ concurrency. */
  concurrency: number;
  /** The stack's ports. */
  ports: StackPorts;
}

/** The long form (`npm run chaos`): the outages of issue 8 at 50 tasks/s. */
export const LONG_FORM: Omit<ChaosOptions, 'ports'> = {
  rate: 50,
  collectorOutageMs: 300_000,
  jaegerOutageMs: 60_000,
  prometheusOutageMs: 60_000,
  workerOutageMs: 5_000,
  steadyMs: 20_000,
  telemetryWaitMs: 180_000,
  concurrency: 20,
};

/** The short form inside `npm test`: the same phases with outages of a few seconds. */
export const SHORT_FORM: Omit<ChaosOptions, 'ports'> = {
  rate: 10,
  collectorOutageMs: 4_000,
  jaegerOutageMs: 4_000,
  prometheusOutageMs: 4_000,
  workerOutageMs: 1_000,
  steadyMs: 3_000,
  telemetryWaitMs: 30_000,
  concurrency: 10,
};

/** The environment variable that overrides each setting (durations such as `90s`, `5m`). */
export const CHAOS_ENV: Record<Exclude<keyof ChaosOptions, 'ports'>, string> = {
  rate: 'CHAOS_RATE',
  collectorOutageMs: 'CHAOS_COLLECTOR_OUTAGE',
  jaegerOutageMs: 'CHAOS_JAEGER_OUTAGE',
  prometheusOutageMs: 'CHAOS_PROMETHEUS_OUTAGE',
  workerOutageMs: 'CHAOS_WORKER_OUTAGE',
  steadyMs: 'CHAOS_STEADY',
  telemetryWaitMs: 'CHAOS_TELEMETRY_WAIT',
  concurrency: 'CHAOS_CONCURRENCY',
};

/** `defaults` with every setting the environment overrides; a bad value is an error naming it. */
export function chaosOptionsFrom(
  defaults: Omit<ChaosOptions, 'ports'>,
  ports: StackPorts,
  env: NodeJS.ProcessEnv = process.env,
): ChaosOptions {
  const options: ChaosOptions = { ...defaults, ports };
  const known = new Set(Object.values(CHAOS_ENV));
  const unknown = Object.keys(env).filter((name) => name.startsWith('CHAOS_') && !known.has(name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown chaos settings ${unknown.join(', ')}; known: ${[...known].join(', ')}`,
    );
  }
  for (const [key, variable] of Object.entries(CHAOS_ENV) as [keyof typeof CHAOS_ENV, string][]) {
    const text = env[variable];
    if (text === undefined || text === '') continue;
    const isCount = key === 'rate' || key === 'concurrency';
    const value = isCount ? Number(text) : parseDuration(text);
    if (value === undefined || !Number.isFinite(value) || value <= 0) {
      throw new Error(
        `${variable} must be ${isCount ? 'a positive number' : 'a duration such as 90s or 5m'}, got "${text}"`,
      );
    }
    options[key] = value;
  }
  return options;
}
