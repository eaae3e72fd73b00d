import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_STACK_PORTS,
  gatewayHosts,
  gatewayResolver,
  gatewayTelemetryTargets,
  nativeAlertmanagerConfig,
  nativePrometheusConfig,
  stackComponents,
  stackPortsFrom,
  tailSamplingEnv,
} from '../src/components.js';
import type { StackBinaries, StackPorts } from '../src/types.js';

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));

describe('nativePrometheusConfig', () => {
  const source = [
    'global:',
    '  scrape_interval: 15s',
    '  evaluation_interval: 15s',
    'rule_files:',
    '  - rules/*.yml',
    'alerting:',
    '  alertmanagers:',
    '    - static_configs:',
    '        - targets: [alertmanager:9093]',
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
    '  - job_name: otel-gateway',
    '    dns_sd_configs:',
    '      - names: [otel-agent, gateway-1, gateway-2]',
    '        type: A',
    '        port: 8888',
    '',
  ].join('\n');

  it('points targets at loopback ports and the rules glob at the repository', () => {
    const ports = {
      ...DEFAULT_STACK_PORTS,
      prometheus: 1,
      collectorTelemetry: 2,
      jaegerTelemetry: 3,
      alertmanager: 4,
    };
    const config = nativePrometheusConfig(source, ports, '/repo/deploy/prometheus/rules');
    expect(config).toContain('- "/repo/deploy/prometheus/rules/*.yml"');
    expect(config).toContain('targets: [127.0.0.1:1]');
    expect(config).toContain('targets: [127.0.0.1:2]');
    expect(config).toContain('targets: [127.0.0.1:3]');
    expect(config).toContain('targets: [127.0.0.1:4]');
    expect(config).toContain('scrape_interval: 15s');
  });

  it('sets the intervals and adds rule files only when asked', () => {
    const config = nativePrometheusConfig(source, DEFAULT_STACK_PORTS, '/rules', {
      evaluationInterval: '1s',
      extraRuleFiles: ['/tmp/test-thresholds.yml'],
    });
    expect(config).toContain('  scrape_interval: 1s\n  evaluation_interval: 1s\n');
    expect(config).toContain('rule_files:\n  - "/rules/*.yml"\n  - "/tmp/test-thresholds.yml"\n');
    expect(() =>
      nativePrometheusConfig(source, DEFAULT_STACK_PORTS, '/r', { evaluationInterval: 'fast' }),
    ).toThrow('evaluationInterval must be a duration');
  });

  it('rewrites every target of the shipped prometheus.yml', () => {
    const shipped = readFileSync(
      join(REPOSITORY, 'deploy', 'prometheus', 'prometheus.yml'),
      'utf8',
    );
    const config = nativePrometheusConfig(shipped, DEFAULT_STACK_PORTS, '/rules', {
      evaluationInterval: '1s',
    });
    const targets = [...config.matchAll(/targets: \[([^\]]*)\]/g)].map((match) => match[1]);
    expect(targets).toEqual([
      '127.0.0.1:9093',
      '127.0.0.1:9090',
      '127.0.0.1:8888',
      '127.0.0.1:14269',
      '',
    ]);
    expect(config).not.toContain('dns_sd_configs');
  });

  it('scrapes the gateways of the gateway stack where they listen, by resolver', () => {
    const ports = { ...DEFAULT_STACK_PORTS, gateway1Telemetry: 5, gateway2Telemetry: 6 };
    const scraped = (gateway: Parameters<typeof gatewayTelemetryTargets>[1]) =>
      nativePrometheusConfig(source, ports, '/rules', {
        gatewayTargets: gatewayTelemetryTargets(ports, gateway),
      }).split('job_name: otel-gateway\n')[1];
    expect(scraped(undefined)).toBe('    static_configs:\n      - targets: []\n');
    expect(scraped({})).toBe('    static_configs:\n      - targets: [127.0.0.1:5, 127.0.0.1:6]\n');
    expect(scraped({ resolver: 'dns' })).toBe(
      '    static_configs:\n      - targets: [127.0.0.2:5, 127.0.0.3:6]\n',
    );
  });

  it('keeps the shipped out-of-order window, so late (spooled) samples are accepted natively too', () => {
    const shipped = readFileSync(
      join(REPOSITORY, 'deploy', 'prometheus', 'prometheus.yml'),
      'utf8',
    );
    const config = nativePrometheusConfig(shipped, DEFAULT_STACK_PORTS, '/rules');
    expect(config).toMatch(/^storage:\n {2}tsdb:\n {4}out_of_order_time_window: 24h$/m);
  });

  it('fails when the file no longer has a target it rewrites', () => {
    expect(() =>
      nativePrometheusConfig(source.replace('jaeger:14269', 'jaeger:1'), DEFAULT_STACK_PORTS, '/r'),
    ).toThrow('no longer contains "jaeger:14269"');
  });
});

describe('nativeAlertmanagerConfig', () => {
  const shipped = readFileSync(
    join(REPOSITORY, 'deploy', 'alertmanager', 'alertmanager.yml'),
    'utf8',
  );

  it('keeps the shipped file as is by default', () => {
    expect(nativeAlertmanagerConfig(shipped)).toBe(
      shipped.replace('url: http://127.0.0.1:9094/alerts', 'url: "http://127.0.0.1:9094/alerts"'),
    );
  });

  it('sets the webhook URL and the grouping delays it is given', () => {
    const config = nativeAlertmanagerConfig(shipped, {
      alertWebhookUrl: 'http://127.0.0.1:45555/hook?x=1',
      alertGroupWait: '1s',
      alertGroupInterval: '2s',
    });
    expect(config).toContain('url: "http://127.0.0.1:45555/hook?x=1"');
    expect(config).not.toContain('url: http://127.0.0.1:9094');
    expect(config).toContain('group_wait: 1s');
    expect(config).toContain('group_interval: 2s');
    expect(config).toContain('repeat_interval: 4h');
  });

  it('refuses what Alertmanager cannot use and a file without the URL', () => {
    expect(() => nativeAlertmanagerConfig(shipped, { alertWebhookUrl: 'ftp://x/' })).toThrow(
      'must be an http(s) URL',
    );
    expect(() => nativeAlertmanagerConfig(shipped, { alertGroupWait: '1 second' })).toThrow(
      'alertGroupWait must be a duration',
    );
    expect(() =>
      nativeAlertmanagerConfig(
        shipped.replace('url: http://127.0.0.1:9094', 'url: http://127.0.0.1:9095'),
      ),
    ).toThrow('no longer contains "url: http://127.0.0.1:9094/alerts"');
  });
});

describe('the gateway stack', () => {
  const context = {
    stateDir: '/state',
    ports: stackPortsFrom(30000),
    bearerToken: undefined,
    configOptions: {},
  };

  it('puts two gateways and an agent in the collector place, on their own ports', () => {
    expect(stackComponents({}).map((component) => component.name)).toEqual([
      'alertmanager',
      'prometheus',
      'jaeger',
      'collector',
    ]);
    const components = stackComponents({ gateway: { samplingPercentage: 1 } });
    expect(components.map((component) => component.name)).toEqual([
      'alertmanager',
      'prometheus',
      'jaeger',
      'gateway-1',
      'gateway-2',
      'agent',
    ]);
    const ports = components.flatMap((component) =>
      component.ports.map((name) => context.ports[name]),
    );
    expect(new Set(ports).size).toBe(ports.length);
    expect(Math.max(...ports)).toBe(30035);

    const gateway = { ...context, gateway: { samplingPercentage: 1, decisionWait: '15s' } };
    const agent = components.find((component) => component.name === 'agent');
    expect(agent?.env(gateway)).toMatchObject({
      OTLP_HTTP_ENDPOINT: '127.0.0.1:30001',
      GATEWAY_ENDPOINTS: '["127.0.0.1:30012","127.0.0.1:30015"]',
      COLLECTOR_FILE_STORAGE_DIR: '/state/agent/file_storage',
    });
    const second = components.find((component) => component.name === 'gateway-2');
    expect(second?.env(gateway)).toEqual({
      OTLP_GRPC_ENDPOINT: '127.0.0.1:30015',
      COLLECTOR_HEALTH_ENDPOINT: '127.0.0.1:30016',
      COLLECTOR_TELEMETRY_HOST: '127.0.0.1',
      COLLECTOR_TELEMETRY_PORT: '30017',
      COLLECTOR_FILE_STORAGE_DIR: '/state/gateway-2/file_storage',
      JAEGER_OTLP_GRPC_ENDPOINT: '127.0.0.1:30005',
      GATEWAY_NAME: 'gateway-2',
      TAIL_SAMPLING_PERCENTAGE: '1',
      TAIL_SAMPLING_DECISION_WAIT: '15s',
    });
  });

  it('with the DNS resolver, puts the gateways on 127.0.0.2 and 127.0.0.3 with one OTLP port', () => {
    const options = { resolver: 'dns' as const };
    const components = stackComponents({ gateway: options });
    const gateway = { ...context, gateway: options };
    const first = components.find((component) => component.name === 'gateway-1');
    const second = components.find((component) => component.name === 'gateway-2');
    expect([first?.host, second?.host]).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(first?.env(gateway)).toMatchObject({ OTLP_GRPC_ENDPOINT: '127.0.0.2:30012' });
    expect(second?.env(gateway)).toMatchObject({
      OTLP_GRPC_ENDPOINT: '127.0.0.3:30012',
      COLLECTOR_HEALTH_ENDPOINT: '127.0.0.3:30016',
      COLLECTOR_TELEMETRY_HOST: '127.0.0.3',
    });
    expect(second?.readyUrl(gateway)).toBe('http://127.0.0.3:30016/');

    const agent = components.find((component) => component.name === 'agent');
    const env = agent?.env(gateway) ?? {};
    expect(env).toMatchObject({
      GATEWAY_DNS_NAME: 'tasklens-gateways',
      GATEWAY_DNS_PORT: '30012',
    });
    expect(env).not.toHaveProperty('GATEWAY_ENDPOINTS');
    const args = agent?.args({
      ...gateway,
      repoDir: '/repo',
      binaries: {
        collector: 'c',
        jaeger: 'j',
        prometheus: 'p',
        alertmanager: 'a',
        thanos: 't',
        node: 'n',
      },
      configOptions: {},
    });
    expect(args).toContain('/repo/deploy/gateway/resolver-dns.yaml');
    // The hosts file is bound over /etc/hosts in a mount namespace of the agent's own.
    expect(agent?.launcher?.(gateway)).toEqual([
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      '/state/agent/hosts',
    ]);
    expect(
      stackComponents({ gateway: {} }).find((component) => component.name === 'agent'),
    ).not.toHaveProperty('launcher');
  });

  it('writes the DNS name of the gateways that are in, and checks the resolver', () => {
    expect(gatewayHosts(['gateway-1', 'gateway-2'])).toBe(
      '127.0.0.1 localhost\n::1 localhost\n' +
        '127.0.0.2 tasklens-gateways\n127.0.0.3 tasklens-gateways\n',
    );
    expect(gatewayHosts(['gateway-1'])).not.toContain('127.0.0.3');
    expect(gatewayResolver({})).toBe('static');
    expect(() => gatewayResolver({ resolver: 'consul' as 'dns' })).toThrow(
      'resolver must be "static" or "dns"',
    );
  });

  it('names in the tail sampler environment only what was set, and checks it', () => {
    expect(tailSamplingEnv({})).toEqual({});
    expect(tailSamplingEnv({ slowAttemptMs: 1000 })).toEqual({
      TAIL_SAMPLING_SLOW_ATTEMPT_MS: '1000',
    });
    expect(() => tailSamplingEnv({ samplingPercentage: 101 })).toThrow('samplingPercentage');
    expect(() => tailSamplingEnv({ slowAttemptMs: 1.5 })).toThrow('slowAttemptMs');
    expect(() => tailSamplingEnv({ decisionWait: 'soon' })).toThrow('decisionWait');
  });
});

describe('the metrics store components', () => {
  const ports = stackPortsFrom(30000);
  const context = {
    repoDir: '/repo',
    stateDir: '/state',
    ports,
    binaries: {
      collector: 'c',
      jaeger: 'j',
      prometheus: 'p',
      alertmanager: 'a',
      thanos: 't',
      node: 'n',
    },
    bearerToken: undefined,
    gateway: undefined,
    configOptions: { metricsStore: true },
  };

  it('run only in a stack that asks for them, with every port of their own', () => {
    const plain = stackComponents({}).map((component) => component.name);
    expect(plain).toEqual(['alertmanager', 'prometheus', 'jaeger', 'collector']);
    const store = stackComponents({ metricsStore: true });
    expect(store.map((component) => component.name)).toEqual([
      'alertmanager',
      'prometheus',
      'jaeger',
      'store-ingester-0',
      'store-ingester-1',
      'store-router',
      'store-rule',
      'store-query',
      'collector',
    ]);
    const used = store.flatMap((component) => component.ports.map((name) => ports[name]));
    expect(new Set(used).size).toBe(used.length);
    const all = (Object.keys(ports) as (keyof StackPorts)[]).map((name) => ports[name]);
    expect(new Set(all).size).toBe(all.length);
    expect(Math.max(...all)).toBe(30035);
  });

  it('replicate every series to both ingesters and merge the copies when reading', () => {
    const args = (name: string): string[] =>
      stackComponents({ metricsStore: true })
        .find((component) => component.name === name)
        ?.args(context) ?? [];
    expect(args('store-router')).toContain('--receive.replication-factor=2');
    expect(args('store-query')).toEqual(
      expect.arrayContaining([
        `--endpoint=127.0.0.1:${ports.storeIngester0Grpc}`,
        `--endpoint=127.0.0.1:${ports.storeIngester1Grpc}`,
        `--endpoint=127.0.0.1:${ports.storeRuleGrpc}`,
        '--query.replica-label=receive_replica',
      ]),
    );
    expect(args('store-ingester-1')).toContain('--label=receive_replica="1"');
    expect(args('store-rule')).toContain(
      `--alertmanagers.url=http://127.0.0.1:${ports.alertmanager}`,
    );
  });

  it("with the gateways too, run before them and take the agent's metrics", () => {
    const components = stackComponents({ gateway: {}, metricsStore: true });
    expect(components.map((component) => component.name).slice(3)).toEqual([
      'store-ingester-0',
      'store-ingester-1',
      'store-router',
      'store-rule',
      'store-query',
      'gateway-1',
      'gateway-2',
      'agent',
    ]);
    const used = components.flatMap((component) => component.ports.map((name) => ports[name]));
    expect(new Set(used).size).toBe(used.length);
    const agent = components.find((component) => component.name === 'agent');
    const agentContext = { ...context, gateway: {} };
    expect(agent?.args(agentContext)).toContain('/repo/deploy/metrics-store/collector.yaml');
    expect(agent?.env(agentContext).METRICS_STORE_OTLP_URL).toBe(
      `http://127.0.0.1:${ports.storeRouterWrite}/api/v1/otlp`,
    );
  });

  it('give the collector the store overlay only in a stack with the store', () => {
    const collector = stackComponents({ metricsStore: true }).find(
      (component) => component.name === 'collector',
    );
    expect(collector?.args(context)).toContain('/repo/deploy/metrics-store/collector.yaml');
    expect(collector?.args({ ...context, configOptions: { metricsStore: false } })).not.toContain(
      '/repo/deploy/metrics-store/collector.yaml',
    );
    expect(collector?.env(context).METRICS_STORE_OTLP_URL).toBe(
      `http://127.0.0.1:${ports.storeRouterWrite}/api/v1/otlp`,
    );
  });
});

describe('the console component', () => {
  it('runs only in a stack that asks for it, last, as `tasklens ui` on the console port', () => {
    expect(stackComponents({}).map((component) => component.name)).not.toContain('console');
    const components = stackComponents({ console: true });
    const consoleComponent = components[components.length - 1];
    expect(consoleComponent?.name).toBe('console');
    expect(consoleComponent?.binary).toBe('node');
    const ports = stackPortsFrom(30000);
    const context = {
      repoDir: '/repo',
      stateDir: '/state',
      ports,
      binaries: {} as StackBinaries,
      bearerToken: undefined,
      gateway: undefined,
      configOptions: {},
      consoleScript: '/cli/dist/tasklens.js',
    };
    expect(consoleComponent?.args(context)).toEqual([
      '/cli/dist/tasklens.js',
      'ui',
      '--state-dir',
      '/state',
      '--port',
      '30034',
    ]);
    expect(consoleComponent?.readyUrl(context)).toBe('http://127.0.0.1:30034/healthz');
  });
});

describe('metrics by remote write', () => {
  const ports = stackPortsFrom(30000);
  const context = (configOptions: {
    metricsStore?: boolean;
    metricsVia?: 'otlp' | 'remote-write';
  }) => ({
    repoDir: '/repo',
    stateDir: '/state',
    ports,
    binaries: {} as StackBinaries,
    bearerToken: undefined,
    gateway: undefined,
    configOptions,
  });
  const collector = (metricsStore: boolean) =>
    stackComponents({ metricsStore }).find((component) => component.name === 'collector');

  it('merges deploy/collector/remote-write.yaml last and points it at Prometheus or the store', () => {
    const overlay = '/repo/deploy/collector/remote-write.yaml';
    expect(collector(false)?.args(context({}))).not.toContain(overlay);
    const viaPrometheus = context({ metricsVia: 'remote-write' });
    expect(collector(false)?.args(viaPrometheus).slice(-2)).toEqual(['--config', overlay]);
    expect(collector(false)?.env(viaPrometheus)).toMatchObject({
      REMOTE_WRITE_URL: `http://127.0.0.1:${ports.prometheus}/api/v1/write`,
      REMOTE_WRITE_LOOP_ENDPOINT: `127.0.0.1:${ports.collectorRemoteWrite}`,
    });
    const viaStore = context({ metricsStore: true, metricsVia: 'remote-write' });
    expect(collector(true)?.args(viaStore).slice(-2)).toEqual(['--config', overlay]);
    expect(collector(true)?.env(viaStore)).toMatchObject({
      REMOTE_WRITE_URL: `http://127.0.0.1:${ports.storeRouterWrite}/api/v1/receive`,
    });
  });
});
