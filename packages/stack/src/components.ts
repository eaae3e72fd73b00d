import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

import type {
  ComponentContext,
  ComponentDefinition,
  ComponentRuntimeContext,
  GeneratedConfigOptions,
  MetricsOptions,
} from './internal-types.js';
import { storeRuleVariant } from './store-rules.js';
import type { GatewayName, GatewayOptions, StackPorts } from './types.js';

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
  alertmanager: 9093,
  gateway1OtlpGrpc: 4417,
  gateway1Health: 13134,
  gateway1Telemetry: 8889,
  gateway2OtlpGrpc: 4427,
  gateway2Health: 13135,
  gateway2Telemetry: 8890,
  storeRouterWrite: 10901,
  storeRouterHttp: 10902,
  storeRouterGrpc: 10903,
  storeIngester0Write: 10904,
  storeIngester0Http: 10905,
  storeIngester0Grpc: 10906,
  storeIngester1Write: 10907,
  storeIngester1Http: 10908,
  storeIngester1Grpc: 10909,
  storeQueryHttp: 10910,
  storeQueryGrpc: 10911,
  storeRuleHttp: 10912,
  storeRuleGrpc: 10913,
  storeRouterCapnp: 10914,
  storeIngester0Capnp: 10915,
  storeIngester1Capnp: 10916,
  console: 8765,
  collectorRemoteWrite: 4319,
});

/**
 * Thirty-six consecutive ports from `base`, in the order of {@link StackPorts}: OTLP/gRPC `base`,
 * OTLP/HTTP `base + 1`, collector health, collector telemetry, Prometheus `base + 4`, Jaeger OTLP
 * gRPC and HTTP, Jaeger query HTTP `base + 7`, query gRPC, health, telemetry, Alertmanager
 * `base + 11`; then the gateway stack's two gateways (OTLP/gRPC, health, telemetry each) from
 * `base + 12` to `base + 17`, and the metrics store's sixteen from `base + 18` (router write) to
 * `base + 33` (the receivers' Cap'n Proto listeners), the console's `base + 34` and the
 * collector's remote-write hop `base + 35`, each used only by a stack that runs them.
 * For a second stack beside one on the default ports (`tasklens stack up --port-base`).
 */
export function stackPortsFrom(base: number): StackPorts {
  if (!Number.isInteger(base) || base < 1 || base + 35 > 65535) {
    throw new Error(`the port base must be an integer from 1 to 65500, got ${String(base)}`);
  }
  return {
    otlpGrpc: base,
    otlpHttp: base + 1,
    collectorHealth: base + 2,
    collectorTelemetry: base + 3,
    prometheus: base + 4,
    jaegerOtlpGrpc: base + 5,
    jaegerOtlpHttp: base + 6,
    jaegerQueryHttp: base + 7,
    jaegerQueryGrpc: base + 8,
    jaegerHealth: base + 9,
    jaegerTelemetry: base + 10,
    alertmanager: base + 11,
    gateway1OtlpGrpc: base + 12,
    gateway1Health: base + 13,
    gateway1Telemetry: base + 14,
    gateway2OtlpGrpc: base + 15,
    gateway2Health: base + 16,
    gateway2Telemetry: base + 17,
    storeRouterWrite: base + 18,
    storeRouterHttp: base + 19,
    storeRouterGrpc: base + 20,
    storeIngester0Write: base + 21,
    storeIngester0Http: base + 22,
    storeIngester0Grpc: base + 23,
    storeIngester1Write: base + 24,
    storeIngester1Http: base + 25,
    storeIngester1Grpc: base + 26,
    storeQueryHttp: base + 27,
    storeQueryGrpc: base + 28,
    storeRuleHttp: base + 29,
    storeRuleGrpc: base + 30,
    storeRouterCapnp: base + 31,
    storeIngester0Capnp: base + 32,
    storeIngester1Capnp: base + 33,
    console: base + 34,
    collectorRemoteWrite: base + 35,
  };
}

/** Every process listens on this address only. */
export const STACK_HOST = '127.0.0.1';

function address(port: number): string {
  return `${STACK_HOST}:${port}`;
}

// A Prometheus duration: what the interval and grouping options accept.
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

function checkDuration(option: string, value: string): string {
  if (!DURATION.test(value)) {
    throw new Error(`${option} must be a duration such as 1s or 5m, got "${value}"`);
  }
  return value;
}

/** Replaces each `[from, to]` in `source`; every `from` must be present, so the file cannot drift. */
function replaceEach(source: string, file: string, replacements: [string, string][]): string {
  let config = source;
  for (const [from, to] of replacements) {
    if (!config.includes(from)) {
      throw new Error(`${file} no longer contains "${from}"`);
    }
    config = config.split(from).join(to);
  }
  return config;
}

/** How deploy/prometheus/prometheus.yml finds the gateway shape's collectors in compose. */
const GATEWAY_DNS_SCRAPE = `dns_sd_configs:
      - names: [otel-agent, gateway-1, gateway-2]
        type: A
        port: 8888`;

/**
 * deploy/prometheus/prometheus.yml names the compose services as targets (Alertmanager included)
 * and its rules relative to itself. The native stack writes a copy into the state directory with
 * loopback targets on the chosen ports and an absolute rules glob. Each replaced text must be
 * present, so the file and this code cannot drift apart silently.
 *
 * @param options - `evaluationInterval` replaces the global scrape and evaluation intervals;
 *   `extraRuleFiles` are appended to rule_files; `gatewayTargets` are the gateways' telemetry
 *   addresses (the agent is scraped as the collector, on its ports). Defaults: the file's
 *   intervals, no extra files, no gateway.
 */
export function nativePrometheusConfig(
  source: string,
  ports: StackPorts,
  rulesDir: string,
  options: Pick<GeneratedConfigOptions, 'evaluationInterval' | 'extraRuleFiles'> & {
    gatewayTargets?: readonly string[];
  } = {},
): string {
  const ruleFiles = [join(rulesDir, '*.yml'), ...(options.extraRuleFiles ?? [])];
  const replacements: [string, string][] = [
    ['localhost:9090', address(ports.prometheus)],
    ['otel-collector:8888', address(ports.collectorTelemetry)],
    ['jaeger:14269', address(ports.jaegerTelemetry)],
    ['alertmanager:9093', address(ports.alertmanager)],
    ['- rules/*.yml', ruleFiles.map((file) => `- ${JSON.stringify(file)}`).join('\n  ')],
    [
      GATEWAY_DNS_SCRAPE,
      `static_configs:\n      - targets: [${(options.gatewayTargets ?? []).join(', ')}]`,
    ],
  ];
  if (options.evaluationInterval !== undefined) {
    const interval = checkDuration('evaluationInterval', options.evaluationInterval);
    replacements.push(
      ['scrape_interval: 15s', `scrape_interval: ${interval}`],
      ['evaluation_interval: 15s', `evaluation_interval: ${interval}`],
    );
  }
  return replaceEach(source, 'deploy/prometheus/prometheus.yml', replacements);
}

/** The webhook URL written in deploy/alertmanager/alertmanager.yml, replaced in the native copy. */
export const DEFAULT_ALERT_WEBHOOK_URL = 'http://127.0.0.1:9094/alerts';

/**
 * Alertmanager does not expand environment variables in its config, so the native stack renders
 * a copy of deploy/alertmanager/alertmanager.yml into the state directory with the webhook URL it
 * was given and, when asked, other grouping delays. Each replaced text must be present.
 *
 * @param options - `alertWebhookUrl` (default: the file's URL), `alertGroupWait` and
 *   `alertGroupInterval` (default: the file's 30s and 5m)
 */
export function nativeAlertmanagerConfig(
  source: string,
  options: Pick<
    GeneratedConfigOptions,
    'alertWebhookUrl' | 'alertGroupWait' | 'alertGroupInterval'
  > = {},
): string {
  const url = options.alertWebhookUrl ?? DEFAULT_ALERT_WEBHOOK_URL;
  if (!/^https?:$/.test(new URL(url).protocol)) {
    throw new Error(`alertWebhookUrl must be an http(s) URL, got "${url}"`);
  }
  const replacements: [string, string][] = [
    [`url: ${DEFAULT_ALERT_WEBHOOK_URL}`, `url: ${JSON.stringify(url)}`],
  ];
  if (options.alertGroupWait !== undefined) {
    replacements.push([
      'group_wait: 30s',
      `group_wait: ${checkDuration('alertGroupWait', options.alertGroupWait)}`,
    ]);
  }
  if (options.alertGroupInterval !== undefined) {
    replacements.push([
      'group_interval: 5m',
      `group_interval: ${checkDuration('alertGroupInterval', options.alertGroupInterval)}`,
    ]);
  }
  return replaceEach(source, 'deploy/alertmanager/alertmanager.yml', replacements);
}

const alertmanager: ComponentDefinition = {
  name: 'alertmanager',
  binary: 'alertmanager',
  ports: ['alertmanager'],
  async prepare({ repoDir, stateDir, configOptions }) {
    const source = await readFile(
      join(repoDir, 'deploy', 'alertmanager', 'alertmanager.yml'),
      'utf8',
    );
    const dir = join(stateDir, 'alertmanager');
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(join(dir, 'alertmanager.yml'), nativeAlertmanagerConfig(source, configOptions));
  },
  args: ({ stateDir, ports }) => [
    `--config.file=${join(stateDir, 'alertmanager', 'alertmanager.yml')}`,
    `--storage.path=${join(stateDir, 'alertmanager', 'data')}`,
    `--web.listen-address=${address(ports.alertmanager)}`,
    // Empty: no cluster (gossip) listener, so the stack opens no port beyond its own.
    '--cluster.listen-address=',
  ],
  env: () => ({}),
  readyUrl: ({ ports }) => `http://${address(ports.alertmanager)}/-/ready`,
};

/**
 * The flags of Prometheus 3 that the tasklens pipeline needs, the same in docker-compose.yml: the
 * OTLP receiver the collector sends metrics to (or, with `metricsVia: 'remote-write'`, its
 * remote-write receiver); exemplar storage, so the trace ids on duration
 * points are kept; and a zero sample at each series' start time (the OTLP points' start time), so
 * the single point of a one-shot `tasklens run` process counts in increase() and rate().
 */
export const PROMETHEUS_FEATURE_FLAGS: readonly string[] = [
  '--web.enable-otlp-receiver',
  '--web.enable-remote-write-receiver',
  '--enable-feature=exemplar-storage,created-timestamp-zero-ingestion',
];

const prometheus: ComponentDefinition = {
  name: 'prometheus',
  binary: 'prometheus',
  ports: ['prometheus'],
  async prepare({ repoDir, stateDir, ports, gateway, configOptions }) {
    const source = await readFile(join(repoDir, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');
    const dir = join(stateDir, 'prometheus');
    await mkdir(join(dir, 'data'), { recursive: true });
    const rulesDir = configOptions.rulesDir ?? join(repoDir, 'deploy', 'prometheus', 'rules');
    await writeFile(
      join(dir, 'prometheus.yml'),
      nativePrometheusConfig(source, ports, rulesDir, {
        ...configOptions,
        gatewayTargets: gatewayTelemetryTargets(ports, gateway),
      }),
    );
  },
  args: ({ stateDir, ports }) => [
    `--config.file=${join(stateDir, 'prometheus', 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(stateDir, 'prometheus', 'data')}`,
    `--web.listen-address=${address(ports.prometheus)}`,
    ...PROMETHEUS_FEATURE_FLAGS,
  ],
  env: () => ({}),
  readyUrl: ({ ports }) => `http://${address(ports.prometheus)}/-/ready`,
};

/**
 * Jaeger's Badger data: under the state directory, so traces outlive a restart of Jaeger and a
 * `stack down` / `stack up` with the same state directory.
 */
function jaegerBadgerDir(stateDir: string): string {
  return join(stateDir, 'jaeger', 'badger');
}

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
  async prepare({ stateDir }) {
    await mkdir(join(jaegerBadgerDir(stateDir), 'keys'), { recursive: true });
    await mkdir(join(jaegerBadgerDir(stateDir), 'values'), { recursive: true });
  },
  args: ({ repoDir }) => ['--config', join(repoDir, 'deploy', 'jaeger', 'config.yaml')],
  env: ({ stateDir, ports }) => ({
    JAEGER_BADGER_KEYS_DIR: join(jaegerBadgerDir(stateDir), 'keys'),
    JAEGER_BADGER_VALUES_DIR: join(jaegerBadgerDir(stateDir), 'values'),
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

/**
 * deploy/metrics-store/collector.yaml, merged after the collector's or agent's own config in a
 * stack with the metrics store: it points the metric exporter at the store's router.
 */
function metricsStoreOverlay(repoDir: string, configOptions: GeneratedConfigOptions): string[] {
  return configOptions.metricsStore === true
    ? ['--config', join(repoDir, 'deploy', 'metrics-store', 'collector.yaml')]
    : [];
}

/** The router's OTLP URL, read only with {@link metricsStoreOverlay}'s file. */
function metricsStoreEnv(ports: StackPorts): Record<string, string> {
  return { METRICS_STORE_OTLP_URL: `http://${address(ports.storeRouterWrite)}/api/v1/otlp` };
}

/**
 * deploy/collector/remote-write.yaml, merged last when metrics go by remote write: the metrics
 * exporter's queue feeds the collector's own hop to the remote-write exporter.
 */
function remoteWriteOverlay(repoDir: string, configOptions: MetricsOptions): string[] {
  return configOptions.metricsVia === 'remote-write'
    ? ['--config', join(repoDir, 'deploy', 'collector', 'remote-write.yaml')]
    : [];
}

/** Where remote write goes: the store's router, or Prometheus's remote-write receiver. */
function remoteWriteEnv(ports: StackPorts, configOptions: MetricsOptions): Record<string, string> {
  return {
    REMOTE_WRITE_URL:
      configOptions.metricsStore === true
        ? `http://${address(ports.storeRouterWrite)}/api/v1/receive`
        : `http://${address(ports.prometheus)}/api/v1/write`,
    REMOTE_WRITE_LOOP_ENDPOINT: address(ports.collectorRemoteWrite),
  };
}

/** The environment the single collector, the agent and the gateways share (their configs agree). */
function collectorEnv(
  stateDir: string,
  directory: string,
  endpoints: { otlpGrpc: number; health: number; telemetry: number },
  host = STACK_HOST,
): Record<string, string> {
  return {
    OTLP_GRPC_ENDPOINT: `${host}:${endpoints.otlpGrpc}`,
    COLLECTOR_HEALTH_ENDPOINT: `${host}:${endpoints.health}`,
    COLLECTOR_TELEMETRY_HOST: host,
    COLLECTOR_TELEMETRY_PORT: String(endpoints.telemetry),
    // The persistent queues (file_storage) outlive a restart.
    COLLECTOR_FILE_STORAGE_DIR: join(stateDir, directory, 'file_storage'),
  };
}

const collector: ComponentDefinition = {
  name: 'collector',
  binary: 'collector',
  ports: ['otlpGrpc', 'otlpHttp', 'collectorHealth', 'collectorTelemetry', 'collectorRemoteWrite'],
  args: ({ repoDir, bearerToken, configOptions }) => [
    '--config',
    join(repoDir, 'otel-collector.yaml'),
    ...(bearerToken === undefined
      ? []
      : ['--config', join(repoDir, 'deploy', 'collector', 'auth.yaml')]),
    ...metricsStoreOverlay(repoDir, configOptions),
    ...remoteWriteOverlay(repoDir, configOptions),
  ],
  env: ({ stateDir, ports, bearerToken, configOptions }) => ({
    ...collectorEnv(stateDir, 'collector', {
      otlpGrpc: ports.otlpGrpc,
      health: ports.collectorHealth,
      telemetry: ports.collectorTelemetry,
    }),
    OTLP_HTTP_ENDPOINT: address(ports.otlpHttp),
    PROMETHEUS_OTLP_ENDPOINT: `http://${address(ports.prometheus)}/api/v1/otlp`,
    ...metricsStoreEnv(ports),
    ...remoteWriteEnv(ports, configOptions),
    JAEGER_OTLP_GRPC_ENDPOINT: address(ports.jaegerOtlpGrpc),
    ...(bearerToken === undefined ? {} : { COLLECTOR_BEARER_TOKEN: bearerToken }),
  }),
  readyUrl: ({ ports }) => `http://${address(ports.collectorHealth)}/`,
};

// --- The metrics store: Thanos Receive, Query and Rule (StartStackOptions.metricsStore) ---------

/** Every store process's data lives under `<stateDir>/store/<name>`. */
function storeDir(stateDir: string, name: string): string {
  return join(stateDir, 'store', name);
}

/** The ingester gRPC addresses the router writes to and the query reads from. */
function ingesterGrpcAddresses(ports: StackPorts): string[] {
  return [address(ports.storeIngester0Grpc), address(ports.storeIngester1Grpc)];
}

/**
 * The Thanos Receive flags every receiver shares: its listeners, and the same out-of-order window
 * as deploy/prometheus/prometheus.yml (late points from an SDK's spool are accepted for a day).
 */
function receiveListenArgs(write: number, http: number, grpc: number, capnp: number): string[] {
  return [
    'receive',
    `--remote-write.address=${address(write)}`,
    `--http-address=${address(http)}`,
    `--grpc-address=${address(grpc)}`,
    `--receive.capnproto-address=${address(capnp)}`,
  ];
}

/**
 * One ingester: a TSDB (with its write-ahead log) under the state directory that the router writes
 * to over gRPC; `receive_replica` tells its copy apart from the other ingester's, and Thanos Query
 * removes that label when it merges the two (deduplication).
 */
function storeIngester(index: 0 | 1): ComponentDefinition {
  const name = index === 0 ? 'store-ingester-0' : 'store-ingester-1';
  const portsOf = (ports: StackPorts): [number, number, number, number] =>
    index === 0
      ? [
          ports.storeIngester0Write,
          ports.storeIngester0Http,
          ports.storeIngester0Grpc,
          ports.storeIngester0Capnp,
        ]
      : [
          ports.storeIngester1Write,
          ports.storeIngester1Http,
          ports.storeIngester1Grpc,
          ports.storeIngester1Capnp,
        ];
  return {
    name,
    binary: 'thanos',
    ports:
      index === 0
        ? ['storeIngester0Write', 'storeIngester0Http', 'storeIngester0Grpc', 'storeIngester0Capnp']
        : [
            'storeIngester1Write',
            'storeIngester1Http',
            'storeIngester1Grpc',
            'storeIngester1Capnp',
          ],
    async prepare({ stateDir }) {
      await mkdir(storeDir(stateDir, name), { recursive: true });
    },
    args: ({ stateDir, ports }) => {
      const [write, http, grpc, capnp] = portsOf(ports);
      return [
        ...receiveListenArgs(write, http, grpc, capnp),
        // A local endpoint and no hashring: an ingester only.
        `--receive.local-endpoint=${address(grpc)}`,
        `--tsdb.path=${storeDir(stateDir, name)}`,
        '--tsdb.retention=15d',
        '--tsdb.out-of-order.time-window=24h',
        `--label=receive_replica="${index}"`,
      ];
    },
    env: () => ({}),
    readyUrl: ({ ports }) => `http://${address(portsOf(ports)[1])}/-/ready`,
  };
}

/**
 * The router: takes the collector's OTLP (and remote write), and writes each series to both
 * ingesters of the hashring (replication factor 2). With factor 2 Thanos answers once one replica
 * has stored the samples, so writes go on while one ingester is down; the other one has every
 * sample written meanwhile. It keeps no data of its own.
 */
const storeRouter: ComponentDefinition = {
  name: 'store-router',
  binary: 'thanos',
  ports: ['storeRouterWrite', 'storeRouterHttp', 'storeRouterGrpc', 'storeRouterCapnp'],
  async prepare({ stateDir, ports }) {
    const dir = storeDir(stateDir, 'router');
    await mkdir(dir, { recursive: true });
    const hashrings = [{ hashring: 'default', endpoints: ingesterGrpcAddresses(ports) }];
    await writeFile(join(dir, 'hashrings.json'), `${JSON.stringify(hashrings, null, 2)}\n`);
  },
  args: ({ stateDir, ports }) => [
    ...receiveListenArgs(
      ports.storeRouterWrite,
      ports.storeRouterHttp,
      ports.storeRouterGrpc,
      ports.storeRouterCapnp,
    ),
    `--receive.hashrings-file=${join(storeDir(stateDir, 'router'), 'hashrings.json')}`,
    '--receive.replication-factor=2',
    // Thanos requires a label on every receiver; a router stores nothing, so it appears nowhere.
    '--label=receive_router="0"',
  ],
  env: () => ({}),
  readyUrl: ({ ports }) => `http://${address(ports.storeRouterHttp)}/-/ready`,
};

/**
 * The Prometheus query API over the store: reads both ingesters and the ruler (whose recorded
 * series live in its own TSDB), and merges the ingesters' copies by dropping `receive_replica`.
 */
const storeQuery: ComponentDefinition = {
  name: 'store-query',
  binary: 'thanos',
  ports: ['storeQueryHttp', 'storeQueryGrpc'],
  args: ({ ports }) => [
    'query',
    `--http-address=${address(ports.storeQueryHttp)}`,
    `--grpc-address=${address(ports.storeQueryGrpc)}`,
    ...[...ingesterGrpcAddresses(ports), address(ports.storeRuleGrpc)].map(
      (endpoint) => `--endpoint=${endpoint}`,
    ),
    '--query.replica-label=receive_replica',
  ],
  env: () => ({}),
  readyUrl: ({ ports }) => `http://${address(ports.storeQueryHttp)}/-/ready`,
};

/**
 * Thanos Rule evaluates the stack's rule files on the store (through Thanos Query) and sends its
 * alerts to the stack's Alertmanager. Its PromQL engine is older than Prometheus 3.16's, so it
 * loads the rewrite of each file that {@link storeRuleVariant} makes when the stack starts: the
 * same rules, without `anchored`, evaluated on the replicas that answer.
 */
const storeRule: ComponentDefinition = {
  name: 'store-rule',
  binary: 'thanos',
  ports: ['storeRuleHttp', 'storeRuleGrpc'],
  async prepare({ repoDir, stateDir, configOptions }) {
    const rulesDir = configOptions.rulesDir ?? join(repoDir, 'deploy', 'prometheus', 'rules');
    const sources = (await readdir(rulesDir))
      .filter((file) => file.endsWith('.yml'))
      .map((file) => join(rulesDir, file));
    sources.push(...(configOptions.extraRuleFiles ?? []));
    const dir = join(storeDir(stateDir, 'rule'), 'rules');
    await mkdir(join(storeDir(stateDir, 'rule'), 'data'), { recursive: true });
    await mkdir(dir, { recursive: true });
    for (const [index, source] of sources.entries()) {
      const text = storeRuleVariant(await readFile(source, 'utf8'), {
        partialResponseStrategy: 'warn',
      });
      await writeFile(join(dir, `${index}-${basename(source)}`), text);
    }
  },
  args: ({ stateDir, ports, configOptions }) => [
    'rule',
    `--http-address=${address(ports.storeRuleHttp)}`,
    `--grpc-address=${address(ports.storeRuleGrpc)}`,
    `--data-dir=${join(storeDir(stateDir, 'rule'), 'data')}`,
    `--rule-file=${join(storeDir(stateDir, 'rule'), 'rules', '*.yml')}`,
    `--query=http://${address(ports.storeQueryHttp)}`,
    `--alertmanagers.url=http://${address(ports.alertmanager)}`,
    `--eval-interval=${checkDuration('evaluationInterval', configOptions.evaluationInterval ?? '15s')}`,
    '--label=ruler="store-rule"',
  ],
  env: () => ({}),
  readyUrl: ({ ports }) => `http://${address(ports.storeRuleHttp)}/-/ready`,
};

const METRICS_STORE_COMPONENTS: readonly ComponentDefinition[] = [
  storeIngester(0),
  storeIngester(1),
  storeRouter,
  storeRule,
  storeQuery,
];

/**
 * With the DNS resolver, each gateway listens on a loopback address of its own (Linux routes all
 * of 127.0.0.0/8 to lo), every port on it, and both take OTLP on the port `gateway1OtlpGrpc`:
 * one name resolving to both addresses, with one port, is what the resolver expects.
 */
export const GATEWAY_DNS_ADDRESSES: Readonly<Record<GatewayName, string>> = Object.freeze({
  'gateway-1': '127.0.0.2',
  'gateway-2': '127.0.0.3',
});

/** The name the agent resolves, with the DNS resolver, to the gateways' addresses. */
export const GATEWAY_DNS_NAME = 'tasklens-gateways';

const GATEWAY_NAMES: readonly GatewayName[] = ['gateway-1', 'gateway-2'];

/** Which of the stack's ports a gateway listens on. */
interface GatewayPortNames {
  otlpGrpc: keyof StackPorts;
  health: keyof StackPorts;
  telemetry: keyof StackPorts;
}

/**
 * Where a gateway listens: its own address and both on one OTLP port with the DNS resolver (one
 * name resolving to both addresses, with one port), else the stack's address and ports of its own.
 */
function gatewayPlacement(
  name: GatewayName,
  resolver: 'static' | 'dns',
): { host: string; portNames: GatewayPortNames } {
  const dns = resolver === 'dns';
  const portNames: GatewayPortNames =
    name === 'gateway-1'
      ? { otlpGrpc: 'gateway1OtlpGrpc', health: 'gateway1Health', telemetry: 'gateway1Telemetry' }
      : {
          otlpGrpc: dns ? 'gateway1OtlpGrpc' : 'gateway2OtlpGrpc',
          health: 'gateway2Health',
          telemetry: 'gateway2Telemetry',
        };
  return { host: dns ? GATEWAY_DNS_ADDRESSES[name] : STACK_HOST, portNames };
}

/** Where Prometheus scrapes the gateways' own metrics; none without the gateway shape. */
export function gatewayTelemetryTargets(
  ports: StackPorts,
  gatewayOptions: GatewayOptions | undefined,
): string[] {
  if (gatewayOptions === undefined) return [];
  const resolver = gatewayResolver(gatewayOptions);
  return GATEWAY_NAMES.map((name) => {
    const { host, portNames } = gatewayPlacement(name, resolver);
    return `${host}:${ports[portNames.telemetry]}`;
  });
}

/** The gateway resolver of `options`, checked: `static` unless set. */
export function gatewayResolver(options: GatewayOptions = {}): 'static' | 'dns' {
  const resolver = options.resolver ?? 'static';
  if (resolver !== 'static' && resolver !== 'dns') {
    throw new Error(`resolver must be "static" or "dns", got "${String(resolver)}"`);
  }
  return resolver;
}

/** The hosts file the agent sees as /etc/hosts with the DNS resolver. */
export function gatewayHostsFile(stateDir: string): string {
  return join(stateDir, 'agent', 'hosts');
}

/** The hosts file that maps {@link GATEWAY_DNS_NAME} to the addresses of `gateways`. */
export function gatewayHosts(gateways: readonly GatewayName[]): string {
  return [
    '127.0.0.1 localhost',
    '::1 localhost',
    ...gateways.map((name) => `${GATEWAY_DNS_ADDRESSES[name]} ${GATEWAY_DNS_NAME}`),
    '',
  ].join('\n');
}

/**
 * Makes the DNS name of the gateway stack in `stateDir` (started with `resolver: 'dns'`) resolve
 * to `gateways` only, as an orchestrator's DNS does when a gateway dies or comes back. The file
 * is rewritten in place: the agent sees it through a bind mount, which follows the inode. The
 * agent's resolver reads it again within its interval plus Go's five-second hosts cache.
 *
 * @example
 * ```ts
 * process.kill(gateway2Pid, 'SIGKILL');
 * await setGatewayDnsRecords(stack.stateDir, ['gateway-1']);
 * ```
 */
export async function setGatewayDnsRecords(
  stateDir: string,
  gateways: readonly GatewayName[],
): Promise<void> {
  await writeFile(gatewayHostsFile(stateDir), gatewayHosts(gateways));
}

/**
 * The command that starts the agent with the DNS resolver: in a private mount namespace
 * (util-linux unshare, as root), with the state directory's hosts file bound over /etc/hosts,
 * then exec'd as the collector itself, so the recorded pid and command line are the collector's.
 */
function privateHostsLauncher({ stateDir }: ComponentRuntimeContext): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$0" /etc/hosts && exec "$@"',
    gatewayHostsFile(stateDir),
  ];
}

/**
 * The gateway stack's agent: the collector's place and ports (OTLP in, health, own metrics
 * scraped by Prometheus), deploy/gateway/agent.yaml with the static resolver listing both
 * gateways, or the DNS resolver on {@link GATEWAY_DNS_NAME} in a hosts file of its own.
 */
function agent(resolver: 'static' | 'dns'): ComponentDefinition {
  return {
    name: 'agent',
    binary: 'collector',
    ports: [
      'otlpGrpc',
      'otlpHttp',
      'collectorHealth',
      'collectorTelemetry',
      'collectorRemoteWrite',
    ],
    ...(resolver === 'dns'
      ? {
          async prepare({ stateDir }: ComponentContext) {
            await mkdir(join(stateDir, 'agent'), { recursive: true });
            await setGatewayDnsRecords(stateDir, GATEWAY_NAMES);
          },
          launcher: privateHostsLauncher,
        }
      : {}),
    args: ({ repoDir, bearerToken, configOptions }) => [
      '--config',
      join(repoDir, 'deploy', 'gateway', 'agent.yaml'),
      '--config',
      join(repoDir, 'deploy', 'gateway', `resolver-${resolver}.yaml`),
      ...(bearerToken === undefined
        ? []
        : ['--config', join(repoDir, 'deploy', 'collector', 'auth.yaml')]),
      ...metricsStoreOverlay(repoDir, configOptions),
      ...remoteWriteOverlay(repoDir, configOptions),
    ],
    env: ({ stateDir, ports, bearerToken, configOptions }) => ({
      ...metricsStoreEnv(ports),
      ...remoteWriteEnv(ports, configOptions),
      ...collectorEnv(stateDir, 'agent', {
        otlpGrpc: ports.otlpGrpc,
        health: ports.collectorHealth,
        telemetry: ports.collectorTelemetry,
      }),
      OTLP_HTTP_ENDPOINT: address(ports.otlpHttp),
      PROMETHEUS_OTLP_ENDPOINT: `http://${address(ports.prometheus)}/api/v1/otlp`,
      ...(resolver === 'dns'
        ? {
            GATEWAY_DNS_NAME,
            GATEWAY_DNS_PORT: String(ports.gateway1OtlpGrpc),
          }
        : {
            GATEWAY_ENDPOINTS: JSON.stringify([
              address(ports.gateway1OtlpGrpc),
              address(ports.gateway2OtlpGrpc),
            ]),
          }),
      ...(bearerToken === undefined ? {} : { COLLECTOR_BEARER_TOKEN: bearerToken }),
    }),
    readyUrl: ({ ports }) => `http://${address(ports.collectorHealth)}/`,
  };
}

/**
 * The environment of deploy/gateway/gateway.yaml's tail sampler for `options`: only what is set,
 * so the file's defaults stay the one place they are written.
 */
export function tailSamplingEnv(options: GatewayOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  const { samplingPercentage, slowAttemptMs, decisionWait } = options;
  if (samplingPercentage !== undefined) {
    if (!(samplingPercentage >= 0 && samplingPercentage <= 100)) {
      throw new Error(
        `samplingPercentage must be from 0 to 100, got ${String(samplingPercentage)}`,
      );
    }
    env.TAIL_SAMPLING_PERCENTAGE = String(samplingPercentage);
  }
  if (slowAttemptMs !== undefined) {
    if (!Number.isInteger(slowAttemptMs) || slowAttemptMs < 0) {
      throw new Error(`slowAttemptMs must be a whole number of ms, got ${String(slowAttemptMs)}`);
    }
    env.TAIL_SAMPLING_SLOW_ATTEMPT_MS = String(slowAttemptMs);
  }
  if (decisionWait !== undefined) {
    env.TAIL_SAMPLING_DECISION_WAIT = checkDuration('decisionWait', decisionWait);
  }
  return env;
}

function gateway(
  name: GatewayName,
  portNames: GatewayPortNames,
  host: string,
): ComponentDefinition {
  return {
    name,
    binary: 'collector',
    ports: [portNames.otlpGrpc, portNames.health, portNames.telemetry],
    host,
    args: ({ repoDir }) => ['--config', join(repoDir, 'deploy', 'gateway', 'gateway.yaml')],
    env: ({ stateDir, ports, gateway: options }) => ({
      ...collectorEnv(
        stateDir,
        name,
        {
          otlpGrpc: ports[portNames.otlpGrpc],
          health: ports[portNames.health],
          telemetry: ports[portNames.telemetry],
        },
        host,
      ),
      JAEGER_OTLP_GRPC_ENDPOINT: address(ports.jaegerOtlpGrpc),
      GATEWAY_NAME: name,
      ...tailSamplingEnv(options),
    }),
    readyUrl: ({ ports }) => `http://${host}:${ports[portNames.health]}/`,
  };
}

/**
 * The stack's processes in start order: Alertmanager first, so Prometheus's first alerts find it;
 * the metrics store next when it runs (ingesters before the router that writes to them, the ruler
 * before the query that reads its recorded series); the collector last, so its exporters find
 * Prometheus (or the store) and Jaeger listening. With `gateway` set, the two gateways and then
 * the agent take the collector's place (with `resolver: 'dns'` the gateways listen on 127.0.0.2
 * and 127.0.0.3 and the agent runs with its own /etc/hosts).
 */
export function stackComponents(options: {
  gateway?: GatewayOptions | undefined;
  metricsStore?: boolean | undefined;
  console?: boolean | undefined;
}): readonly ComponentDefinition[] {
  const store = options.metricsStore === true ? METRICS_STORE_COMPONENTS : [];
  return [
    alertmanager,
    prometheus,
    jaeger,
    ...store,
    ...ingestComponents(options.gateway),
    ...(options.console === true ? [consoleComponent] : []),
  ];
}

/**
 * The task console: `tasklens ui` run by Node, reading the backends of the stack recorded in the
 * state directory (so it follows the ports and the metrics store without options of its own).
 */
const consoleComponent: ComponentDefinition = {
  name: 'console',
  binary: 'node',
  ports: ['console'],
  args: ({ consoleScript, stateDir, ports }) => {
    if (consoleScript === undefined) throw new Error('the console needs the tasklens command');
    return [consoleScript, 'ui', '--state-dir', stateDir, '--port', String(ports.console)];
  },
  env: () => ({}),
  readyUrl: ({ ports }) => `http://${STACK_HOST}:${ports.console}/healthz`,
};

/** What takes OTLP in: the collector, or the gateway stack's two gateways and agent. */
function ingestComponents(gatewayOptions: GatewayOptions | undefined): ComponentDefinition[] {
  if (gatewayOptions === undefined) return [collector];
  const resolver = gatewayResolver(gatewayOptions);
  return [
    ...GATEWAY_NAMES.map((name) => {
      const { host, portNames } = gatewayPlacement(name, resolver);
      return gateway(name, portNames, host);
    }),
    agent(resolver),
  ];
}
