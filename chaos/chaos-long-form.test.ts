/*
 * The chaos suite's long form, run by `npm run chaos` (chaos/run-chaos.js) through
 * chaos/vitest.config.ts: the outages of issue 8 at 50 tasks/s, each setting overridable by its
 * CHAOS_* variable. Prints the per-phase table and the verdict; fails when anything was lost.
 */
import { describe, expect, it } from 'vitest';
import { stackPortsFrom } from '@tasklens/stack';
import { requireRedis } from '@tasklens/test-utils';
import { chaosOptionsFrom, LONG_FORM } from './chaos-options.js';
import { chaosReport, verdictLine } from './chaos-report.js';
import { runChaos } from './chaos-run.js';

const options = chaosOptionsFrom(LONG_FORM, stackPortsFrom(21800));
// Traffic, outages, restarts and the telemetry waits of four phases, with room to spare.
const RUN_LIMIT_MS =
  options.collectorOutageMs +
  options.jaegerOutageMs +
  options.prometheusOutageMs +
  options.workerOutageMs +
  4 * (2 * options.steadyMs + options.telemetryWaitMs + 180_000);

describe('chaos (long form)', () => {
  it(
    'loses no task trace and no attempt',
    async () => {
      await requireRedis();
      const result = await runChaos(options, (line) =>
        console.log(`${new Date().toISOString()} ${line}`),
      );
      console.log(chaosReport(result));
      expect(verdictLine(result)).toBe('VERDICT: nothing lost');
    },
    RUN_LIMIT_MS,
  );
});
