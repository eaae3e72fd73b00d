/*
 * `tasklens failures --group-by error|task`: the failure groups (one per task and error type, as
 * Prometheus counts them) put together by error type or by task.
 */
import { describe, expect, it } from 'vitest';
import type { FailureGroup } from '../src/console/api-types.js';
import { formatRollupTable, rollUpFailures } from '../src/failure-rollup.js';

function group(fields: Partial<FailureGroup>): FailureGroup {
  return {
    service: 'billing',
    task: 'charge',
    queue: 'payments',
    system: 'bullmq',
    outcome: 'failure',
    errorType: 'CardDeclinedError',
    count: 1,
    firstSeen: null,
    lastSeen: null,
    latestTraceId: null,
    latestMessage: null,
    ...fields,
  };
}

const url = (traceId: string): string => `http://console/traces/${traceId}`;
const at = (minute: number): number => Date.UTC(2026, 11, 7, 21, minute);

const groups = [
  group({
    count: 600,
    firstSeen: at(1),
    lastSeen: at(50),
    latestTraceId: 'a'.repeat(32),
    latestMessage: 'declined',
  }),
  group({
    task: 'refund',
    count: 100,
    firstSeen: at(0),
    lastSeen: at(20),
    latestTraceId: 'b'.repeat(32),
  }),
  group({
    errorType: 'TimeoutError',
    outcome: 'timeout',
    count: 250,
    firstSeen: at(5),
    lastSeen: at(55),
  }),
  group({
    task: 'refund',
    errorType: '_OTHER',
    count: 50,
    lastSeen: at(30),
    latestTraceId: 'c'.repeat(32),
  }),
];

describe('failures rolled up', () => {
  it('by error type: exact counts summed over tasks, largest first, the newest example', () => {
    const rows = rollUpFailures(groups, 'error', url);
    expect(rows.map((row) => [row.errorType, row.count])).toEqual([
      ['CardDeclinedError', 700],
      ['TimeoutError', 250],
      ['_OTHER', 50],
    ]);
    expect(rows[0]).toMatchObject({
      spread: ['billing/charge', 'billing/refund'],
      firstSeen: new Date(at(0)).toISOString(),
      lastSeen: new Date(at(50)).toISOString(),
      exampleTraceId: 'a'.repeat(32),
      exampleMessage: 'declined',
      exampleUrl: `http://console/traces/${'a'.repeat(32)}`,
      service: null,
    });
    expect(rows[1]).toMatchObject({ exampleTraceId: null, exampleUrl: null });
  });

  it('by task: one row per service, task and queue, with its error types', () => {
    const rows = rollUpFailures(groups, 'task', url);
    expect(rows.map((row) => [row.task, row.count, row.spread])).toEqual([
      ['charge', 850, ['CardDeclinedError', 'TimeoutError']],
      ['refund', 150, ['CardDeclinedError', '_OTHER']],
    ]);
    expect(rows[1]).toMatchObject({
      exampleTraceId: 'c'.repeat(32),
      errorType: null,
      queue: 'payments',
    });
  });

  it('prints one line per row and one with the example’s message and link', () => {
    const table = formatRollupTable(rollUpFailures(groups, 'error', url), 'error');
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^COUNT\s+ERROR\s+TASKS\s+FIRST SEEN\s+LAST SEEN\s+EXAMPLE$/);
    expect(lines[1]).toMatch(
      /^700\s+CardDeclinedError\s+billing\/charge, billing\/refund\s+2026-12-07 21:00:00Z/,
    );
    expect(lines[2]).toBe(`    declined  http://console/traces/${'a'.repeat(32)}`);
    expect(lines[3]).toMatch(/^250\s+TimeoutError/);
    expect(formatRollupTable([], 'task')).toBe('no failed tasks\n');
  });
});
