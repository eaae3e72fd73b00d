/* The chaos suite's settings and verdict, without a stack: what the flags and CHAOS_* mean. */
import { describe, expect, it } from 'vitest';
import { chaosOptionsFrom, LONG_FORM } from '../../../chaos/chaos-options.js';
import { verdictLine } from '../../../chaos/chaos-report.js';
import type { ChaosResult, PhaseResult } from '../../../chaos/chaos-result.js';
import { testStackPorts } from './support/test-ports.js';

const PORTS = testStackPorts(21800);

function phase(name: string, traces: number, attempts: number, spoolMaxBytes = 0): PhaseResult {
  return {
    name,
    disruption: `${name} kill -9`,
    tasks: { expected: 10, found: 10 },
    traces: { expected: 10, found: traces },
    attempts: { expected: 11, found: attempts },
    unexportedAtKill: { spans: 0, attempts: 0 },
    lostWithWorker: [],
    lostCounted: { expected: 0, found: 0 },
    spool: {},
    rss: {},
    spoolMaxBytes,
    missingTraces: traces < 10 ? ['collector-3'] : [],
  };
}

function result(phases: PhaseResult[]): ChaosResult {
  return {
    queue: 'chaos-test',
    options: { ...LONG_FORM, ports: PORTS },
    phases,
    history: { traces: { expected: 10, found: 10 }, attemptTotals: { expected: 1, found: 1 } },
    directory: '/tmp/chaos-test',
  };
}

describe('chaos settings', () => {
  it('defaults to the long form of issue 8: 50 tasks/s, outages of 5 min, 60 s and 60 s', () => {
    expect(chaosOptionsFrom(LONG_FORM, PORTS, {})).toMatchObject({
      rate: 50,
      collectorOutageMs: 300_000,
      jaegerOutageMs: 60_000,
      prometheusOutageMs: 60_000,
      ports: PORTS,
    });
  });

  it('takes each setting from its CHAOS_* variable', () => {
    expect(
      chaosOptionsFrom(LONG_FORM, PORTS, {
        CHAOS_RATE: '20',
        CHAOS_COLLECTOR_OUTAGE: '90s',
        CHAOS_TELEMETRY_WAIT: '2m',
      }),
    ).toMatchObject({ rate: 20, collectorOutageMs: 90_000, telemetryWaitMs: 120_000 });
  });

  it('rejects a bad value and an unknown setting, naming them', () => {
    expect(() => chaosOptionsFrom(LONG_FORM, PORTS, { CHAOS_RATE: 'fast' })).toThrow(
      'CHAOS_RATE must be a positive number, got "fast"',
    );
    expect(() => chaosOptionsFrom(LONG_FORM, PORTS, { CHAOS_COLECTOR_OUTAGE: '1m' })).toThrow(
      'unknown chaos settings CHAOS_COLECTOR_OUTAGE',
    );
  });
});

describe('chaos verdict', () => {
  it('says nothing was lost only when every count matches', () => {
    expect(verdictLine(result([phase('collector', 10, 11)]))).toBe('VERDICT: nothing lost');
  });

  it('names each phase that lost traces or attempts', () => {
    expect(verdictLine(result([phase('collector', 8, 11), phase('jaeger', 10, 9)]))).toBe(
      'VERDICT: LOST — collector: 2 task traces (e.g. collector-3); ' +
        'jaeger: 2 attempts in Prometheus (run directory kept: /tmp/chaos-test)',
    );
  });

  it('fails a phase whose spool grew above its cap', () => {
    expect(verdictLine(result([phase('collector', 10, 11, 101 * 1024 * 1024)]))).toBe(
      'VERDICT: LOST — collector: the spool reached 101.0 MiB, above its 100 MiB cap ' +
        '(run directory kept: /tmp/chaos-test)',
    );
  });

  it('names what a later kill destroyed', () => {
    const lostLater = result([phase('collector', 10, 11)]);
    lostLater.history.traces.found = 4;
    expect(verdictLine(lostLater)).toBe(
      "VERDICT: LOST — afterwards: 6 task traces found at their phase's end " +
        '(run directory kept: /tmp/chaos-test)',
    );
  });
});
