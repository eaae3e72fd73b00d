import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '@tasklens/test-utils';
import type { OtlpReceiver } from '@tasklens/test-utils';
import { runCli } from './support/cli-process.js';
import type { CliRun } from './support/cli-process.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => receiver.reset());

function tasklens(
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (text: string, child: ChildProcess) => void,
  stdin?: string,
): Promise<CliRun> {
  return runCli(
    args,
    { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: 'cli-test', ...env },
    onStdout,
    stdin,
  );
}

describe('tasklens run', () => {
  it.each([
    ['exit 0', 'exit 0', 0, 'success'],
    ['exit 1', 'exit 1', 1, 'failure'],
    ['killed by SIGKILL', 'kill -9 $$', 137, 'failure'],
  ])('%s: passes the exit code through and records it', async (_label, script, code, outcome) => {
    const result = await tasklens(['run', '--task', 'exit-codes', '--', 'sh', '-c', script]);
    expect(result).toMatchObject({ code, signal: null, stderr: '' });

    const [span] = receiver.spans().filter((candidate) => candidate.name === 'exit-codes');
    expect(span.attributes).toMatchObject({
      'task.name': 'exit-codes',
      'task.outcome': outcome,
      'process.exit.code': code,
      'process.executable.name': 'sh',
    });
    expect(span.status.code).toBe(outcome === 'success' ? 0 : 2);
    expect(span.resource['service.name']).toBe('cli-test');
  });

  it('passes stdout through and hands the task context to the command as TRACEPARENT', async () => {
    const result = await tasklens([
      'run',
      '--task',
      'env',
      '--',
      'sh',
      '-c',
      'echo "$TRACEPARENT"',
    ]);
    expect(result.code).toBe(0);
    const [span] = receiver.spans();
    expect(result.stdout).toBe(`00-${span.traceId}-${span.spanId}-01\n`);
  });

  it('prints a JSON summary with the trace id on stderr with --json', async () => {
    const result = await tasklens([
      'run',
      '--task',
      'summarized',
      '--json',
      '--',
      'sh',
      '-c',
      'exit 3',
    ]);
    expect(result.code).toBe(3);
    const [span] = receiver.spans();
    expect(JSON.parse(result.stderr)).toEqual({
      task: 'summarized',
      outcome: 'failure',
      exitCode: 3,
      durationMs: expect.any(Number) as number,
      traceId: span.traceId,
    });
  });

  it('passes standard input through to the command', async () => {
    const result = await tasklens(
      ['run', '--task', 'stdin', '--', 'cat'],
      {},
      undefined,
      'line one\nline two\n',
    );
    expect(result).toMatchObject({ code: 0, stdout: 'line one\nline two\n', stderr: '' });
  });

  it('stops the command at --timeout and records outcome timeout with exit code 124', async () => {
    const result = await tasklens([
      'run',
      '--task',
      'slow',
      '--timeout',
      '300ms',
      '--',
      'sleep',
      '30',
    ]);
    expect(result).toMatchObject({
      code: 124,
      stderr: 'tasklens run: "slow" timed out after 300ms\n',
    });
    const [span] = receiver.spans();
    expect(span.attributes).toMatchObject({
      'task.outcome': 'timeout',
      'error.type': 'TaskTimeoutError',
    });
  });

  it('forwards SIGTERM to the command and exits with its code', async () => {
    const result = await tasklens(
      ['run', '--task', 'trapped', '--', `${FIXTURES}trap-term.sh`],
      {},
      (stdout, child) => {
        if (stdout === 'ready\n') child.kill('SIGTERM');
      },
    );
    expect(result).toMatchObject({ code: 42, stdout: 'ready\ngot TERM\n' });
    const [span] = receiver.spans();
    expect(span.attributes['task.outcome']).toBe('cancelled');
  });

  it('lets a Node child using @tasklens/node join the run trace', async () => {
    const result = await tasklens([
      'run',
      '--task',
      'node-parent',
      '--',
      process.execPath,
      `${FIXTURES}node-task.mjs`,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const run = receiver.spans().find((span) => span.name === 'node-parent');
    const child = receiver.spans().find((span) => span.name === 'child-step');
    expect(child?.traceId).toBe(run?.traceId);
    expect(child?.parentSpanId).toBe(run?.spanId);
    expect(child?.resource['service.name']).toBe('cli-test-child');
  });

  it('records last success and duration metrics for the run', async () => {
    await tasklens(['run', '--task', 'metered', '--', 'true']);
    const names = receiver.metricPoints().map((point) => point.metric);
    expect(names).toEqual(expect.arrayContaining(['task.duration', 'task.last_success']));
    const duration = receiver
      .metricPoints('task.duration')
      .find((point) => point.attributes['task.name'] === 'metered');
    expect(duration).toMatchObject({ count: 1, attributes: { 'task.outcome': 'success' } });
  });

  it('loses no span over 100 runs of a short script', async () => {
    const runs = Array.from({ length: 100 }, (_unused, index) => index);
    const codes: (number | null)[] = [];
    for (let start = 0; start < runs.length; start += 4) {
      const batch = runs
        .slice(start, start + 4)
        .map(async () => (await tasklens(['run', '--task', 'loop', '--', 'true'])).code);
      codes.push(...(await Promise.all(batch)));
    }
    expect(codes.every((code) => code === 0)).toBe(true);
    expect(receiver.spans().filter((span) => span.name === 'loop')).toHaveLength(100);
  }, 300_000);

  it('keeps the exit code and warns once when no collector listens', async () => {
    const result = await tasklens(['run', '--task', 'offline', '--', 'sh', '-c', 'exit 5'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      TASKLENS_FLUSH_TIMEOUT_MS: '2000',
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(
      /^tasklens: could not export (spans|metrics) to http:\/\/127\.0\.0\.1:9\//,
    );
    expect(result.stderr.match(/could not export/g)).toHaveLength(1);
  });

  it('rejects bad arguments with usage and exit code 2', async () => {
    for (const args of [
      ['run'],
      ['run', '--task', 'x'],
      ['run', '--task', 'x', '--timeout', 'soon', '--', 'true'],
      ['run', '--bogus'],
    ]) {
      const result = await tasklens(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Usage: tasklens run');
    }
    expect(await tasklens(['run', '--task', 'x', '--', '/no/such/command'])).toMatchObject({
      code: 127,
    });
    expect(receiver.spans().filter((span) => span.name === 'x')).toHaveLength(1);
  });
});
