import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { formatDuration, parseDuration } from '../src/duration.js';
import { closedPort } from '@tasklens/test-utils';

async function tasklens(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

describe('tasklens command line', () => {
  it('prints usage with exit code 2 without a command or with an unknown one, 0 for --help', async () => {
    expect(await tasklens([])).toMatchObject({ code: 2, stdout: '' });
    const unknown = await tasklens(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('tasklens: unknown command "frobnicate"');
    const help = await tasklens(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tasklens <command>');
  });

  it.each([
    [['failures', '--since', 'yesterday'], '--since "yesterday" is not a duration'],
    [['failures', '--limit', '0'], '--limit "0" is not a whole number from 1 to 10000'],
    [['failures', '--jaeger-url', 'ftp://x'], '--jaeger-url "ftp://x" is not an http(s) URL'],
    [['failures', 'extra'], 'unexpected argument "extra"'],
    [['failures', '--bogus'], "Unknown option '--bogus'"],
    [['stats', '--since', '10s'], '--since "10s" is not a duration of at least 1m'],
    [['stats', '--prometheus-url', 'nope'], '--prometheus-url "nope" is not an http(s) URL'],
    [
      ['failures', '--state-dir', '/nonexistent/tasklens'],
      '--state-dir: no stack is recorded in /nonexistent/tasklens (start one with: tasklens stack up --state-dir /nonexistent/tasklens)',
    ],
    [
      ['stats', '--state-dir', '/nonexistent/tasklens'],
      '--state-dir: no stack is recorded in /nonexistent/tasklens',
    ],
    [['run', '--timeout', '5', '--task', 'x', '--', 'true'], '--timeout "5" is not a duration'],
    [['ui', '--port', 'http'], '--port "http" is not a port number from 0 to 65535'],
    [['ui', '--port', '70000'], '--port "70000" is not a port number'],
    [['ui', '--host', ''], '--host must not be empty'],
    [['ui', '--jaeger-url', 'file:///etc'], '--jaeger-url "file:///etc" is not an http(s) URL'],
    [['ui', '--token-file', '/nonexistent/token'], '--token-file: ENOENT'],
    [['ui', '--open'], "Unknown option '--open'"],
    [['ui', '--state-dir', '/nonexistent/tasklens'], '--state-dir: no stack is recorded in'],
    [['failures', '--console-url', 'x'], '--console-url "x" is not an http(s) URL'],
  ])('%j: exit code 2 with a clear message and the usage', async (argv, message) => {
    const result = await tasklens(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(`Usage: tasklens ${argv[0]}`);
  });

  it('exits 3 with how to start the backend when Jaeger or Prometheus is unreachable', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const failures = await tasklens(['failures', '--jaeger-url', url]);
    expect(failures.code).toBe(3);
    expect(failures.stderr).toMatch(
      /Jaeger at http:\/\/127\.0\.0\.1:\d+ is not reachable \(ECONNREFUSED\); start it with `tasklens stack up`/,
    );
    const stats = await tasklens(['stats', '--prometheus-url', url]);
    expect(stats.code).toBe(3);
    expect(stats.stderr).toContain('Prometheus at');
  });
});

describe('durations', () => {
  it('parses one number with one unit and rejects anything else', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    for (const bad of ['', '5', 'm', '-1s', '0s', '1h30m', '1 week']) {
      expect(parseDuration(bad)).toBeUndefined();
    }
  });

  it('formats durations for people', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_300)).toBe('12.3s');
    expect(formatDuration(245_000)).toBe('4m05s');
    expect(formatDuration(7_800_000)).toBe('2h10m');
    expect(formatDuration(3 * 86_400_000 + 3_600_000)).toBe('3d01h');
  });
});
