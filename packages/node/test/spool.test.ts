import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, startOtlpReceiver } from '@tasklens/test-utils';
import type { OtlpReceiver } from '@tasklens/test-utils';
import { newSpoolDir, startChild } from './support/job-process.js';

const SERVICE = 'spooled-job';

let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

/** The environment of a job exporting to port `port` with its spool in `spoolDir`. */
function jobEnv(port: number, spoolDir: string, extra: Record<string, string> = {}) {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_SERVICE_NAME: SERVICE,
    TASKLENS_SPOOL_DIR: spoolDir,
    TASKLENS_FLUSH_TIMEOUT_MS: '3000',
    ...extra,
  };
}

function spooledFiles(spoolDir: string): string[] {
  try {
    return readdirSync(join(spoolDir, SERVICE)).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
}

function spanIdCounts(spans: { spanId: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { spanId } of spans) counts.set(spanId, (counts.get(spanId) ?? 0) + 1);
  return counts;
}

/** Every id in `expected` arrived exactly once, and nothing else did. */
function expectExactlyOnce(received: { spanId: string }[], expected: string[]): void {
  const counts = spanIdCounts(received);
  expect([...counts.keys()].sort()).toEqual([...expected].sort());
  expect([...counts.values()].filter((count) => count !== 1)).toEqual([]);
}

describe('the spool', () => {
  it('delivers a job run while the collector was down with the next run, metrics included', async () => {
    const port = await closedPort();
    const spoolDir = newSpoolDir();

    const down = await startChild(jobEnv(port, spoolDir, { TASK_COUNT: '10' })).exited;
    expect(down).toMatchObject({ code: 0, signal: null });
    expect(down.stderr).toMatch(
      new RegExp(
        `^tasklens: could not export (spans|metrics) to http://127\\.0\\.0\\.1:${port}/v1/(traces|metrics): [^\\n]*ECONNREFUSED[^\\n]*; kept in ${join(spoolDir, SERVICE)} until the collector answers`,
      ),
    );
    expect(spooledFiles(spoolDir).some((name) => name.includes('.traces.'))).toBe(true);
    expect(spooledFiles(spoolDir).some((name) => name.includes('.metrics.'))).toBe(true);

    receiver = await startOtlpReceiver(port);
    const next = await startChild(jobEnv(port, spoolDir, { TASK_COUNT: '1' })).exited;
    expect(next).toMatchObject({ code: 0, signal: null, stderr: '' });

    expectExactlyOnce(receiver.spans(), [...down.doneSpanIds, ...next.doneSpanIds]);
    // The first run's last metric export: its ten tasks and its last success.
    const firstRun = receiver.spans().find((span) => span.spanId === down.doneSpanIds[0]);
    const firstInstance = firstRun?.resource['service.instance.id'];
    const firstRunDurations = receiver
      .metricPoints('task.duration')
      .filter((point) => point.resource['service.instance.id'] === firstInstance);
    expect(firstRunDurations.map((point) => point.count)).toEqual([10]);
    expect(
      receiver
        .metricPoints('task.last_success')
        .filter((point) => point.resource['service.instance.id'] === firstInstance),
    ).toHaveLength(1);
    expect(spooledFiles(spoolDir)).toEqual([]);
  });

  it('keeps a running worker’s spans through an overloaded collector and sends them once it recovers', async () => {
    receiver = await startOtlpReceiver();
    receiver.respondWith(503);
    const spoolDir = newSpoolDir();
    const port = Number(new URL(receiver.endpoint).port);
    const child = startChild(
      jobEnv(port, spoolDir, {
        TASK_COUNT: '1000000',
        TASK_DELAY_MS: '5',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
      }),
    );
    await child.tasksDone(50);
    await expect.poll(() => spooledFiles(spoolDir).length, { timeout: 10_000 }).toBeGreaterThan(2);
    expect(receiver.spans()).toEqual([]);

    receiver.respondWith(200);
    const current = receiver;
    const allArrived = (spanIds: string[]) => () => {
      const received = new Set(current.spans().map((span) => span.spanId));
      return spanIds.every((spanId) => received.has(spanId));
    };
    await current.waitUntil(
      allArrived(await child.tasksDone(0)),
      'the spans spooled while the collector answered 503 never arrived',
    );
    const doneBeforeSignal = await child.tasksDone(0);
    child.kill('SIGTERM');
    const exit = await child.exited;

    expect(exit.signal).toBe('SIGTERM');
    expect(exit.stderr).toMatch(/^tasklens: could not export (spans|metrics) to [^\n]*: HTTP 503/);
    // Every task that ended before the signal, exactly once and in the order the tasks ended
    // (oldest spooled batch first); one that ended during the shutdown may be missing.
    const order = current.spans().map((span) => span.spanId);
    expect(order.slice(0, doneBeforeSignal.length)).toEqual(doneBeforeSignal);
    expect(order.slice(doneBeforeSignal.length)).toEqual(
      exit.doneSpanIds.slice(doneBeforeSignal.length, order.length),
    );
    expect(spooledFiles(spoolDir)).toEqual([]);
  });

  it('lets several processes of one service share a spool: every span delivered once', async () => {
    const port = await closedPort();
    const spoolDir = newSpoolDir();
    const down = await Promise.all(
      [1, 2, 3].map(() => startChild(jobEnv(port, spoolDir, { TASK_COUNT: '20' })).exited),
    );
    expect(down.map((run) => run.code)).toEqual([0, 0, 0]);

    receiver = await startOtlpReceiver(port);
    const up = await Promise.all(
      [1, 2].map(() => startChild(jobEnv(port, spoolDir, { TASK_COUNT: '1' })).exited),
    );
    expect(up.map((run) => run.stderr)).toEqual(['', '']);

    expectExactlyOnce(
      receiver.spans(),
      [...down, ...up].flatMap((run) => run.doneSpanIds),
    );
    expect(spooledFiles(spoolDir)).toEqual([]);
  });

  it('when full, keeps every failed task’s span, evicts successes, and counts and says what it dropped', async () => {
    const port = await closedPort();
    const spoolDir = newSpoolDir();
    const capBytes = 1024 * 1024;

    // About 1.6 MB of spans for a 1 MiB spool; every 100th task fails.
    const down = await startChild(
      jobEnv(port, spoolDir, {
        TASK_COUNT: '3000',
        TASK_DELAY_MS: '1',
        TASK_FAIL_EVERY: '100',
        TASKLENS_SPOOL_MAX_MIB: '1',
      }),
    ).exited;
    expect(down.code).toBe(0);
    const files = spooledFiles(spoolDir);
    const spooledBytes = files.reduce(
      (sum, name) => sum + statSync(join(spoolDir, SERVICE, name)).size,
      0,
    );
    expect(spooledBytes).toBeLessThanOrEqual(capBytes);
    expect(down.stderr).toMatch(
      /\ntasklens: dropped \d+ spans because the spool is full \([^)]*\); further drops are counted in tasklens\.spool\.\*\.dropped, not repeated\n/,
    );
    expect(down.stderr.match(/because the spool is full/g)).toHaveLength(1);

    receiver = await startOtlpReceiver(port);
    const next = await startChild(jobEnv(port, spoolDir, { TASK_COUNT: '1' })).exited;
    expect(next.code).toBe(0);

    const fromFirstRun = receiver.spans().filter((span) => down.doneSpanIds.includes(span.spanId));
    const failed = fromFirstRun.filter((span) => span.status.code === 2);
    expect(failed).toHaveLength(30);
    const succeeded = fromFirstRun.length - failed.length;
    expect(succeeded).toBeGreaterThan(0);
    expect(succeeded).toBeLessThan(2970);
    const firstInstance = fromFirstRun[0]?.resource['service.instance.id'];
    const dropped = receiver
      .metricPoints('tasklens.spool.spans.dropped')
      .filter((point) => point.resource['service.instance.id'] === firstInstance);
    expect(dropped.map((point) => point.attributes)).toEqual([{ reason: 'full' }]);
    expect(dropped[0]?.value).toBeGreaterThan(0);
  });

  it('drops a spooled metric export older than Prometheus accepts, and says so', async () => {
    receiver = await startOtlpReceiver();
    const spoolDir = newSpoolDir();
    const port = Number(new URL(receiver.endpoint).port);
    const body = JSON.stringify({
      resourceMetrics: [
        {
          resource: {
            attributes: [{ key: 'service.instance.id', value: { stringValue: 'a-day-old-run' } }],
          },
          scopeMetrics: [],
        },
      ],
    });
    const dayAgo = String(Date.now() - 24 * 60 * 60 * 1000).padStart(13, '0');
    mkdirSync(join(spoolDir, SERVICE), { recursive: true });
    writeFileSync(
      join(spoolDir, SERVICE, `${dayAgo}-1-000001.metrics.3.${Buffer.byteLength(body)}.json`),
      body,
    );

    const run = await startChild(jobEnv(port, spoolDir, { TASK_COUNT: '1' })).exited;

    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^tasklens: dropped a metric export because it is older than Prometheus accepts \(spooled [^)]*\); further drops are counted/,
    );
    expect(JSON.stringify(receiver.requests())).not.toContain('a-day-old-run');
    expect(spooledFiles(spoolDir)).toEqual([]);
  });

  it('does not keep what the collector rejects for good', async () => {
    receiver = await startOtlpReceiver();
    receiver.respondWith(400);
    const spoolDir = newSpoolDir();
    const port = Number(new URL(receiver.endpoint).port);

    const run = await startChild(jobEnv(port, spoolDir, { TASK_COUNT: '5' })).exited;

    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^tasklens: could not export (spans|metrics) to [^\n;]*: HTTP 400 Bad Request \(further/,
    );
    expect(spooledFiles(spoolDir)).toEqual([]);
  });

  it('costs one warning when the spool directory cannot be written, and the job runs on', async () => {
    const port = await closedPort();
    const blocker = join(newSpoolDir(), 'a-file');
    writeFileSync(blocker, '');

    const run = await startChild(jobEnv(port, blocker, { TASK_COUNT: '5' })).exited;

    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.doneSpanIds).toHaveLength(5);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe(
      `tasklens: the telemetry spool at ${join(blocker, SERVICE)} cannot be used (ENOTDIR: not a directory, mkdir '${join(blocker, SERVICE)}'); telemetry the collector does not take is dropped and counted in tasklens.spool.*.dropped`,
    );
    expect(lines.slice(1).every((line) => line.startsWith('tasklens: '))).toBe(true);
    expect(lines.filter((line) => line.includes('spool')).length).toBe(1);
  });
});
