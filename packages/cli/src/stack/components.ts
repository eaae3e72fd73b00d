import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { ComponentDefinition } from './internal-types.js';
import type { StackPorts } from './types.js';

/** Default loopback ports; see {@link StackPorts} for what each one is. */
export const DEFAULT_STACK_PORTS: Readonly<StackPorts> = Object.freeze({
  otlpGrpc: 4317,
  otlpHttp: 4318,
  collectorHealth: 13133,
  collectorTelemetry: 8888,
  prometheus: 9090,
  jaegerOtlpGrpc: 14317,
  jaegerOtlpHttp: 14318,
  jaegerQueryHttp: 16686,
  jaegerQueryGrpc: 16685,
  jaegerHealth: 14133,
  jaegerTelemetry: 14269,
});

/** Every process listens on this address only. */
export const STACK_HOST = '127.0.0.1';

function address(port: number): string {
  return `${STACK_HOST}:${port}`;
}

/**
 * deploy/prometheus/prometheus.yml names the compose services as targets and its rules relative to
 * itself. The native stack writes a copy into the state directory with loopback targets on the
 * chosen ports and an absolute rules glob. Each replaced text must be present, so the file and
 * this code cannot drift apart silently.
 */
export function nativePrometheusConfig(
  source: string,
  ports: StackPorts,
  rulesDir: string,
): string {
  const replacements: [string, string][] = [
    ['localhost:9090', address(ports.prometheus)],
    ['otel-collector:8888', address(ports.collectorTelemetry)],
    ['jaeger:14269', address(ports.jaegerTelemetry)],
    ['- rules/*.yml', `- ${JSON.stringify(join(rulesDir, '*.yml'))}`],
  ];
  let config = source;
  for (const [from, to] of replacements) {
    if (!config.includes(from)) {
      throw new Error(`deploy/prometheus/prometheus.yml no longer contains "${from}"`);
    }
    config = config.split(from).join(to);
  }
  return config;
}

const prometheus: ComponentDefinition = {
  name: 'prometheus',
  binary: 'prometheus',
  ports: ['prometheus'],
  async prepare({ repoDir, stateDir, ports }) {
    const source = await readFile(join(repoDir, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');
    const dir = join(stateDir, 'prometheus');
    await mkdir(join(dir, 'data'), { recursive: true });
    const rulesDir = join(repoDir, 'deploy', 'prometheus', 'rules');
    await writeFile(join(dir, 'prometheus.yml'), nativePrometheusConfig(source, ports, rulesDir));
  },
  args: ({ stateDir, ports }) => [
    `--config.file=${join(stateDir, 'prometheus', 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(stateDir, 'prometheus', 'data')}`,
    `--web.listen-address=${address(ports.prometheus)}`,
    '--web.enable-remote-write-receiver',
  ],
  env: () => ({}),
  readyUrl: ({ ports }) => `http://${address(ports.prometheus)}/-/ready`,
};

const jaeger: ComponentDefinition = {
  name: 'jaeger',
  binary: 'jaeger',
  ports: [
    'jaegerOtlpGrpc',
    'jaegerOtlpHttp',
    'jaegerQueryHttp',
    'jaegerQueryGrpc',
    'jaegerHealth',
    'jaegerTelemetry',
  ],
  args: ({ repoDir }) => ['--config', join(repoDir, 'deploy', 'jaeger', 'config.yaml')],
  env: ({ ports }) => ({
    JAEGER_OTLP_GRPC_ENDPOINT: address(ports.jaegerOtlpGrpc),
    JAEGER_OTLP_HTTP_ENDPOINT: address(ports.jaegerOtlpHttp),
    JAEGER_QUERY_HTTP_ENDPOINT: address(ports.jaegerQueryHttp),
    JAEGER_QUERY_GRPC_ENDPOINT: address(ports.jaegerQueryGrpc),
    JAEGER_HEALTH_ENDPOINT: address(ports.jaegerHealth),
    JAEGER_TELEMETRY_HOST: STACK_HOST,
    JAEGER_TELEMETRY_PORT: String(ports.jaegerTelemetry),
  }),
  readyUrl: ({ ports }) => `http://${address(ports.jaegerQueryHttp)}/api/services`,
};

const collector: ComponentDefinition = {
  name: 'collector',
  binary: 'collector',
  ports: ['otlpGrpc', 'otlpHttp', 'collectorHealth', 'collectorTelemetry'],
  args: ({ repoDir, bearerToken }) => [
    '--config',
    join(repoDir, 'otel-collector.yaml'),
    ...(bearerToken === undefined
      ? []
      : ['--config', join(repoDir, 'deploy', 'collector', 'auth.yaml')]),
  ],
  env: ({ stateDir, ports, bearerToken }) => ({
    OTLP_GRPC_ENDPOINT: address(ports.otlpGrpc),
    OTLP_HTTP_ENDPOINT: address(ports.otlpHttp),
    PROMETHEUS_REMOTE_WRITE_ENDPOINT: `http://${address(ports.prometheus)}/api/v1/write`,
    JAEGER_OTLP_GRPC_ENDPOINT: address(ports.jaegerOtlpGrpc),
    COLLECTOR_HEALTH_ENDPOINT: address(ports.collectorHealth),
    COLLECTOR_TELEMETRY_HOST: STACK_HOST,
    COLLECTOR_TELEMETRY_PORT: String(ports.collectorTelemetry),
    COLLECTOR_FILE_STORAGE_DIR: join(stateDir, 'collector', 'file_storage'),
    ...(bearerToken === undefined ? {} : { COLLECTOR_BEARER_TOKEN: bearerToken }),
  }),
  readyUrl: ({ ports }) => `http://${address(ports.collectorHealth)}/`,
};

/**
 * The stack's processes in start order: the collector last, so its exporters find Prometheus and
 * Jaeger listening. Alertmanager goes in here next.
 */
export const STACK_COMPONENTS: readonly ComponentDefinition[] = [prometheus, jaeger, collector];
