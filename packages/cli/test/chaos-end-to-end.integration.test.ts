/*
 * The chaos suite's short form (the long form is `npm run chaos`, see chaos/README.md): a worker
 * process at a steady rate on BullMQ through the real native stack while the collector, Jaeger
 * and Prometheus are each killed -9 and restarted, then the worker itself is killed -9 mid-job.
 * Every task's trace must be in Jaeger and every attempt counted in Prometheus, phase by phase;
 * the attempt that died with the worker must be counted with outcome lost, explained, and the
 * job's next attempt found.
 */
import { describe, expect, it } from 'vitest';
import { chaosOptionsFrom, SHORT_FORM } from '../../../chaos/chaos-options.js';
import { chaosReport } from '../../../chaos/chaos-report.js';
import { runChaos } from '../../../chaos/chaos-run.js';
import { requireRedis } from '@tasklens/test-utils';
import { testStackPorts } from './support/test-ports.js';

// Below the ephemeral port range, apart from the other test files' stacks.
const PORTS = testStackPorts(21700);

describe('chaos: kill -9 of the collector, Jaeger, Prometheus and the worker (short form)', () => {
  it('loses no task trace and no attempt, and explains the attempt that died with the worker', async () => {
    await requireRedis();
    const result = await runChaos(chaosOptionsFrom(SHORT_FORM, PORTS, {}), (line) =>
      console.log(line),
    );
    console.log(chaosReport(result));

    expect(
      result.phases.map((phase) => ({
        phase: phase.name,
        tasks: phase.tasks.found,
        traces: phase.traces.found,
        attempts: phase.attempts.found,
      })),
    ).toEqual(
      result.phases.map((phase) => ({
        phase: phase.name,
        tasks: phase.tasks.expected,
        traces: phase.traces.expected,
        attempts: phase.attempts.expected,
      })),
    );
    expect(result.history.traces.found).toBe(result.history.traces.expected);
    expect(result.history.attemptTotals.found).toBe(result.history.attemptTotals.expected);
    const worker = result.phases.find((phase) => phase.name === 'worker');
    expect(worker?.lostWithWorker.length).toBeGreaterThan(0);
    // Each attempt that died with the worker is recorded by the job's next one, outcome lost.
    expect(worker?.lostCounted.found).toBe(worker?.lostCounted.expected);
    for (const lost of worker?.lostWithWorker ?? []) {
      expect(lost.next, `the next attempt of job ${lost.job}`).toMatchObject({
        attempt: lost.attempt + 1,
        inJaeger: true,
      });
    }
  }, 300_000);
});
