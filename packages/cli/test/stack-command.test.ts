import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stackCommand } from '../src/commands/stack.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    output: {
      stdout: (text: string) => {
        out.stdout += text;
      },
      stderr: (text: string) => {
        out.stderr += text;
      },
    },
  };
}

describe('tasklens stack (arguments)', () => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tasklens-stack-command-'));
  });

  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('prints help with --help and exits 0', async () => {
    const { out, output } = capture();
    expect(await stackCommand(['--help'], output)).toBe(0);
    expect(out.stdout).toContain('Usage: tasklens stack <up|down|status|build>');
  });

  it.each([
    [[], 'missing command'],
    [['start'], 'unknown command "start"'],
    [['up', 'now'], 'unexpected argument "now"'],
    [['status', '--verbose'], "Unknown option '--verbose'"],
    [['status', '--state-dir'], "Option '--state-dir <value>' argument missing"],
  ])('rejects %j with exit code 2', async (argv, message) => {
    const { out, output } = capture();
    expect(await stackCommand(argv, output)).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).toContain('Usage:');
  });

  it.each([
    [['status', '--port-base', '22300'], '--port-base applies to `up` only'],
    [['down', '--gateway'], '--gateway applies to `up` only'],
    [['up', '--gateway-resolver', 'dns'], '--gateway-resolver applies to `up --gateway` only'],
    [
      ['up', '--gateway', '--gateway-resolver', 'consul'],
      '--gateway-resolver must be static or dns, got "consul"',
    ],
    [['status', '--metrics-via', 'otlp'], '--metrics-via applies to `up` only'],
    [['up', '--metrics-via', 'kafka'], '--metrics-via must be otlp or remote-write, got "kafka"'],
    [['up', '--port-base', 'x'], '--port-base: the port base must be an integer'],
    [['up', '--port-base', '65530'], '--port-base: the port base must be an integer'],
  ])('rejects %j with exit code 2 before starting anything', async (argv, message) => {
    const { out, output } = capture();
    expect(await stackCommand(argv, output)).toBe(2);
    expect(out.stderr).toContain(message);
  });

  it('reports no stack for an empty state directory', async () => {
    const { out, output } = capture();
    expect(await stackCommand(['status', '--state-dir', stateDir], output)).toBe(1);
    expect(out.stdout).toBe(`no stack recorded in ${stateDir}\n`);
  });

  it('prints JSON with --json', async () => {
    const { out, output } = capture();
    expect(await stackCommand(['down', '--state-dir', stateDir, '--json'], output)).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ stateDir, components: [] });
  });
});
