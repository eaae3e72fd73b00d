import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { stackCommand } from '../src/commands/stack.js';
import { DEFAULT_STACK_PORTS, nativePrometheusConfig } from '../src/stack/components.js';

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
    expect(out.stdout).toContain('Usage: tasklens stack <up|down|status>');
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

describe('nativePrometheusConfig', () => {
  const source = [
    'rule_files:',
    '  - rules/*.yml',
    'scrape_configs:',
    '  - job_name: prometheus',
    '    static_configs:',
    '      - targets: [localhost:9090]',
    '  - job_name: otel-collector',
    '    static_configs:',
    '      - targets: [otel-collector:8888]',
    '  - job_name: jaeger',
    '    static_configs:',
    '      - targets: [jaeger:14269]',
    '',
  ].join('\n');

  it('points targets at loopback ports and the rules glob at the repository', () => {
    const ports = {
      ...DEFAULT_STACK_PORTS,
      prometheus: 1,
      collectorTelemetry: 2,
      jaegerTelemetry: 3,
    };
    const config = nativePrometheusConfig(source, ports, '/repo/deploy/prometheus/rules');
    expect(config).toContain('- "/repo/deploy/prometheus/rules/*.yml"');
    expect(config).toContain('targets: [127.0.0.1:1]');
    expect(config).toContain('targets: [127.0.0.1:2]');
    expect(config).toContain('targets: [127.0.0.1:3]');
  });

  it('fails when the file no longer has a target it rewrites', () => {
    expect(() =>
      nativePrometheusConfig(source.replace('jaeger:14269', 'jaeger:1'), DEFAULT_STACK_PORTS, '/r'),
    ).toThrow('no longer contains "jaeger:14269"');
  });
});
