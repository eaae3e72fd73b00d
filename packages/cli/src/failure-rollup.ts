import type { FailureGroup } from './console/api-types.js';
import { textTable } from './text-table.js';

/** What `tasklens failures --group-by` puts failed attempts together by. */
export type FailureRollupKey = 'error' | 'task';

/** One row of `tasklens failures --group-by error|task`, as `--json` prints it. */
export interface FailureRollup {
  /** `error`: the error.type (`_OTHER` where an attempt gave none); `task`: null. */
  errorType: string | null;
  /** `task`: the task's service, name and queue (`''` for none); `error`: null. */
  service: string | null;
  task: string | null;
  queue: string | null;
  /** Failed attempts in the range, from Prometheus (exact, not a sample). */
  count: number;
  /** First and last time the count grew, to the query step (ISO 8601), when known. */
  firstSeen: string | null;
  lastSeen: string | null;
  /** The tasks (`error`) or error types (`task`) the row holds, most failures first. */
  spread: string[];
  /** The newest failing trace of the row found, with its message and link, if any. */
  exampleTraceId: string | null;
  exampleMessage: string | null;
  exampleUrl: string | null;
}

interface Accumulator {
  row: FailureRollup;
  spread: Map<string, number>;
  firstMs: number | null;
  lastMs: number | null;
  exampleAtMs: number;
}

function keyOf(group: FailureGroup, by: FailureRollupKey): string {
  return by === 'error'
    ? group.errorType
    : JSON.stringify([group.service, group.task, group.queue]);
}

function spreadOf(group: FailureGroup, by: FailureRollupKey): string {
  return by === 'error' ? `${group.service}/${group.task}` : group.errorType;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The failure groups (one per task and error type, counted by Prometheus) put together by error
 * type or by task: counts summed, the earliest first and latest last seen, and the example of the
 * group seen last, sorted by count, largest first.
 */
export function rollUpFailures(
  groups: readonly FailureGroup[],
  by: FailureRollupKey,
  traceUrl: (traceId: string) => string,
): FailureRollup[] {
  const rows = new Map<string, Accumulator>();
  for (const group of groups) {
    const key = keyOf(group, by);
    let accumulator = rows.get(key);
    if (accumulator === undefined) {
      accumulator = {
        row: {
          errorType: by === 'error' ? group.errorType : null,
          service: by === 'task' ? group.service : null,
          task: by === 'task' ? group.task : null,
          queue: by === 'task' ? group.queue : null,
          count: 0,
          firstSeen: null,
          lastSeen: null,
          spread: [],
          exampleTraceId: null,
          exampleMessage: null,
          exampleUrl: null,
        },
        spread: new Map(),
        firstMs: null,
        lastMs: null,
        exampleAtMs: -Infinity,
      };
      rows.set(key, accumulator);
    }
    accumulator.row.count += group.count;
    const spread = spreadOf(group, by);
    accumulator.spread.set(spread, (accumulator.spread.get(spread) ?? 0) + group.count);
    if (group.firstSeen !== null) {
      accumulator.firstMs = Math.min(accumulator.firstMs ?? Infinity, group.firstSeen);
    }
    if (group.lastSeen !== null) {
      accumulator.lastMs = Math.max(accumulator.lastMs ?? -Infinity, group.lastSeen);
    }
    const seenAt = group.lastSeen ?? -Infinity;
    if (group.latestTraceId !== null && seenAt >= accumulator.exampleAtMs) {
      accumulator.exampleAtMs = seenAt;
      accumulator.row.exampleTraceId = group.latestTraceId;
      accumulator.row.exampleMessage = group.latestMessage;
      accumulator.row.exampleUrl = traceUrl(group.latestTraceId);
    }
  }
  return [...rows.values()]
    .map(({ row, spread, firstMs, lastMs }) => ({
      ...row,
      firstSeen: iso(firstMs),
      lastSeen: iso(lastMs),
      spread: [...spread.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name),
    }))
    .sort((a, b) => b.count - a.count);
}

/** The rows as a table: count, what they are grouped by, first and last seen, an example. */
export function formatRollupTable(rows: readonly FailureRollup[], by: FailureRollupKey): string {
  if (rows.length === 0) return 'no failed tasks\n';
  const time = (value: string | null): string =>
    value === null ? '-' : value.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const header =
    by === 'error'
      ? ['COUNT', 'ERROR', 'TASKS', 'FIRST SEEN', 'LAST SEEN', 'EXAMPLE']
      : ['COUNT', 'SERVICE', 'TASK', 'QUEUE', 'ERRORS', 'FIRST SEEN', 'LAST SEEN', 'EXAMPLE'];
  const cells = rows.map((row) => {
    const spread =
      row.spread.length > 3 ? `${row.spread.slice(0, 3).join(', ')}, …` : row.spread.join(', ');
    const tail = [time(row.firstSeen), time(row.lastSeen), row.exampleTraceId ?? '-'];
    return by === 'error'
      ? [String(row.count), row.errorType ?? '', spread, ...tail]
      : [String(row.count), row.service ?? '', row.task ?? '', row.queue || '-', spread, ...tail];
  });
  return textTable(header, cells, (index) => {
    const { exampleMessage, exampleUrl } = rows[index];
    return exampleUrl === null ? undefined : `${exampleMessage ?? '(no message)'}  ${exampleUrl}`;
  });
}
