/**
 * Public types of the native stack: the collector, Prometheus, Jaeger and Alertmanager run as
 * child processes on 127.0.0.1, started by {@link startStack} and stopped by {@link stopStack}.
 */

/**
 * Names of the stack's components, in the order they start: `collector` in the single-collector
 * stack; `gateway-1`, `gateway-2` and `agent` in its place in the gateway stack
 * ({@link StartStackOptions.gateway}); the metrics store's Thanos processes before them with
 * {@link StartStackOptions.metricsStore}; the task console last with {@link StartStackOptions.console}.
 */
export type StackComponentName =
  | 'alertmanager'
  | 'prometheus'
  | 'jaeger'
  | 'collector'
  | 'gateway-1'
  | 'gateway-2'
  | 'agent'
  | 'store-ingester-0'
  | 'store-ingester-1'
  | 'store-router'
  | 'store-query'
  | 'store-rule'
  | 'console';

/**
 * Loopback ports the stack listens on. Defaults ({@link DEFAULT_STACK_PORTS}) are the usual ones;
 * tests pass other ports so they never clash with a stack the user left running.
 */
export interface StackPorts {
  /** Collector OTLP/gRPC receiver. Default 4317. */
  otlpGrpc: number;
  /** Collector OTLP/HTTP receiver (`/v1/traces`, `/v1/metrics`, `/v1/logs`). Default 4318. */
  otlpHttp: number;
  /** Collector health_check extension. Default 13133. */
  collectorHealth: number;
  /** Collector's own metrics (otelcol_*), scraped by Prometheus. Default 8888. */
  collectorTelemetry: number;
  /** Prometheus web, API and OTLP receiver. Default 9090. */
  prometheus: number;
  /** Jaeger OTLP/gRPC receiver, fed by the collector. Default 14317. */
  jaegerOtlpGrpc: number;
  /** Jaeger OTLP/HTTP receiver. Default 14318. */
  jaegerOtlpHttp: number;
  /** Jaeger query HTTP API (`/api/traces/{id}`, `/api/v3/...`). Default 16686. */
  jaegerQueryHttp: number;
  /** Jaeger query gRPC API. Default 16685. */
  jaegerQueryGrpc: number;
  /** Jaeger healthcheckv2 extension. Default 14133. */
  jaegerHealth: number;
  /** Jaeger's own metrics, scraped by Prometheus. Default 14269. */
  jaegerTelemetry: number;
  /**
   * Alertmanager web and API (`/api/v2/alerts`), where Prometheus sends alerts. Default 9093.
   * Its cluster (gossip) port is never opened: the native stack runs one Alertmanager.
   */
  alertmanager: number;
  /** First gateway's OTLP/gRPC receiver, fed by the agent (gateway stack only). Default 4417. */
  gateway1OtlpGrpc: number;
  /** First gateway's health_check extension (gateway stack only). Default 13134. */
  gateway1Health: number;
  /** First gateway's own metrics (otelcol_*) (gateway stack only). Default 8889. */
  gateway1Telemetry: number;
  /** Second gateway's OTLP/gRPC receiver (gateway stack only). Default 4427. */
  gateway2OtlpGrpc: number;
  /** Second gateway's health_check extension (gateway stack only). Default 13135. */
  gateway2Health: number;
  /** Second gateway's own metrics (otelcol_*) (gateway stack only). Default 8890. */
  gateway2Telemetry: number;
  /**
   * The metrics store's ports, used only with {@link StartStackOptions.metricsStore}. The router's
   * write port takes remote write (`/api/v1/receive`) and OTLP (`/api/v1/otlp`): the collector
   * sends metrics there. Defaults 10901 to 10916 in this order.
   */
  storeRouterWrite: number;
  storeRouterHttp: number;
  storeRouterGrpc: number;
  storeIngester0Write: number;
  storeIngester0Http: number;
  storeIngester0Grpc: number;
  storeIngester1Write: number;
  storeIngester1Http: number;
  storeIngester1Grpc: number;
  /** Thanos Query's HTTP API: the Prometheus query API over the store (`tasklens stats`). */
  storeQueryHttp: number;
  storeQueryGrpc: number;
  /** Thanos Rule's HTTP API (`/api/v1/rules`, `/api/v1/alerts`). */
  storeRuleHttp: number;
  storeRuleGrpc: number;
  /**
   * Each receiver's Cap'n Proto replication listener, which Thanos Receive always opens (the
   * stack replicates over gRPC). Defaults 10914 to 10916.
   */
  storeRouterCapnp: number;
  storeIngester0Capnp: number;
  storeIngester1Capnp: number;
  /** The task console (`tasklens ui`), with {@link StartStackOptions.console}. Default 8765. */
  console: number;
  /**
   * The collector's internal OTLP/HTTP hop to its remote-write exporter
   * (deploy/collector/remote-write.yaml), with {@link StartStackOptions.metricsVia}
   * `'remote-write'`. Default 4319.
   */
  collectorRemoteWrite: number;
}

/**
 * How the collector sends task metrics: `'otlp'` to Prometheus's (or the store's) OTLP receiver,
 * `'remote-write'` by Prometheus remote write 1.0 to its remote-write receiver (or the store
 * router's `/api/v1/receive`).
 */
export type MetricsVia = 'otlp' | 'remote-write';

/** The gateway stack's gateways. */
export type GatewayName = 'gateway-1' | 'gateway-2';

/**
 * The gateway stack: tail sampling of its gateways (deploy/gateway/gateway.yaml; every trace with
 * a failed attempt is kept whatever these say) and how the agent finds them.
 */
export interface GatewayOptions {
  /** Share of the other traces kept, in percent (0 to 100). Default 10. */
  samplingPercentage?: number;
  /** A trace with an attempt (CONSUMER span) slower than this is kept, in ms. Default 5000. */
  slowAttemptMs?: number;
  /**
   * How long a gateway holds a trace's spans in memory before deciding, as a duration such as
   * `10s`. Default 10s. Every attempt of a trace must end within it to be judged with the rest.
   */
  decisionWait?: string;
  /**
   * How the agent finds the gateways (deploy/gateway/resolver-*.yaml). `static`: a fixed list of
   * both; a gateway that is down keeps its trace ids, which wait in the agent's persistent queue.
   * `dns`: the gateways listen on 127.0.0.2 and 127.0.0.3 (same OTLP port) and the agent resolves
   * one name to both, from a hosts file of its own ({@link setGatewayDnsRecords} changes it), so a
   * gateway taken out of it leaves the ring. Needs root and util-linux `unshare`: the agent runs in
   * a private mount namespace with that file bound over /etc/hosts. Default `static`.
   */
  resolver?: 'static' | 'dns';
}

/** Absolute paths of the executables the stack runs. */
export interface StackBinaries {
  /** The collector built from deploy/collector/builder-config.yaml. */
  collector: string;
  /** Jaeger v2 built from its Go module. */
  jaeger: string;
  /** Prometheus 3, built from its Go module. */
  prometheus: string;
  /** Alertmanager (Debian's package prometheus-alertmanager). */
  alertmanager: string;
  /** Thanos, built from its Go module: needed only with {@link StartStackOptions.metricsStore}. */
  thanos: string;
  /** The Node.js that runs the console ({@link StartStackOptions.console}). Default: this process's. */
  node: string;
}

/** Options of {@link startStack}. Every field is optional. */
export interface StartStackOptions {
  /**
   * Where logs, pids, generated configs and data go. Default: `<repository>/.tasklens/stack`
   * (git-ignored) in a tasklens checkout; for an installed package
   * `$XDG_STATE_HOME/tasklens/stack`, else `~/.local/state/tasklens/stack`.
   */
  stateDir?: string;
  /**
   * The folder holding otel-collector.yaml and deploy/: a tasklens checkout, or the `stack-files`
   * folder an installed @tasklens/stack ships. Default: {@link stackFilesDir}, the checkout this
   * package runs from, else the installed package's copy.
   */
  repoDir?: string;
  /** Ports to use instead of the defaults, field by field. */
  ports?: Partial<StackPorts>;
  /**
   * When set, the collector's OTLP receivers require `Authorization: Bearer <token>`
   * (deploy/collector/auth.yaml is merged in). The token reaches the collector through its
   * environment, never its command line. Default: no auth.
   */
  bearerToken?: string;
  /** Executables to use instead of the cached builds and Debian's Alertmanager, field by field. */
  binaries?: Partial<StackBinaries>;
  /** How long to wait for every component to become ready, in milliseconds. Default 60000. */
  readyTimeoutMs?: number;
  /**
   * Where Alertmanager sends its notifications: replaces the webhook URL of
   * deploy/alertmanager/alertmanager.yml (`http://127.0.0.1:9094/alerts`) in the copy the stack
   * renders into its state directory. Default: that URL.
   */
  alertWebhookUrl?: string;
  /**
   * Alertmanager's `group_wait` (first notification of a new group) in the rendered copy, as a
   * Prometheus duration such as `1s`. Default: the file's 30s. Tests shorten it.
   */
  alertGroupWait?: string;
  /**
   * Alertmanager's `group_interval` (next notification of a group that changed) in the rendered
   * copy. Default: the file's 5m. Tests shorten it.
   */
  alertGroupInterval?: string;
  /**
   * Prometheus's scrape and rule evaluation interval in the generated prometheus.yml, as a
   * duration such as `1s`. Default: the file's 15s. Tests shorten it so rules and alerts follow
   * new data within seconds.
   */
  evaluationInterval?: string;
  /**
   * Folder whose `*.yml` rule files Prometheus loads instead of deploy/prometheus/rules. Default:
   * the repository's rules. Tests point it at a copy with shorter `for:` durations.
   */
  rulesDir?: string;
  /**
   * More rule files (absolute paths or globs) Prometheus loads besides the rules folder, for
   * example per-task thresholds of your own. Default: none.
   */
  extraRuleFiles?: string[];
  /**
   * When set, the stack is scaled out on loopback as the README's "Scaling out" describes: an
   * agent collector (deploy/gateway/agent.yaml with the static or DNS resolver) takes OTLP on the
   * collector's ports, sends metrics to Prometheus (or the metrics store) and routes traces by
   * trace id to two gateway
   * collectors (deploy/gateway/gateway.yaml), which tail-sample them and send what they keep to
   * Jaeger. This is `tasklens stack up --gateway`. Default: one collector (otel-collector.yaml).
   */
  gateway?: GatewayOptions;
  /**
   * Also run the metrics store and send task metrics there instead of Prometheus: two Thanos
   * Receive ingesters behind a router that writes every sample to both (replication factor 2), a
   * Thanos Query over them (the Prometheus query API, {@link StackEndpoints.storeQuery}) and a
   * Thanos Rule that evaluates the stack's rules on it and sends alerts to the stack's
   * Alertmanager. Prometheus keeps scraping the pipeline's own metrics. Default false.
   */
  metricsStore?: boolean;
  /**
   * How the collector sends task metrics: `'otlp'` (default) or `'remote-write'`
   * (deploy/collector/remote-write.yaml merged last): the same series, counts and exemplars,
   * by remote write. This is `tasklens stack up --metrics-via remote-write`.
   */
  metricsVia?: MetricsVia;
  /**
   * Also run the task console: `node <script> ui` on the console port, reading this stack's
   * Prometheus (or metrics store), Jaeger and Alertmanager. `script` is the `tasklens` command's
   * file (the CLI's bin); `tasklens stack up` passes its own. Default: no console.
   */
  console?: { script: string };
}

/**
 * Options of {@link restartStackComponent}: the `bearerToken` the stack was started with (it is not
 * recorded on disk) and how long to wait for readiness (default 60000 ms).
 */
export type RestartComponentOptions = Pick<StartStackOptions, 'bearerToken' | 'readyTimeoutMs'>;

/** What the state directory records about one started component. */
export interface StackComponentState {
  /** The component. */
  name: StackComponentName;
  /** Process id. */
  pid: number;
  /** Full command line it was started with. */
  command: string[];
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22), to detect pid reuse. */
  startTicks: number;
  /** Its combined stdout and stderr. */
  logFile: string;
  /** URL that answers 200 when the component is ready. */
  readyUrl: string;
}

/** URLs a client of the running stack needs. */
export interface StackEndpoints {
  /** Base URL of the collector's OTLP/HTTP receiver, e.g. `http://127.0.0.1:4318`. */
  otlpHttp: string;
  /** host:port of the collector's OTLP/gRPC receiver. */
  otlpGrpc: string;
  /** Base URL of Prometheus, e.g. `http://127.0.0.1:9090`. */
  prometheus: string;
  /** Base URL of Jaeger's query API and UI server, e.g. `http://127.0.0.1:16686`. */
  jaegerQuery: string;
  /** URL of the collector's health check. */
  collectorHealth: string;
  /** Base URL of Alertmanager's web and API, e.g. `http://127.0.0.1:9093`. */
  alertmanager: string;
  /**
   * Base URL of the metrics store's Prometheus query API (Thanos Query), e.g.
   * `http://127.0.0.1:10910`; present when the stack runs the store.
   */
  storeQuery?: string;
  /** Base URL of the metrics store's ruler (Thanos Rule); present when the stack runs the store. */
  storeRule?: string;
  /** Base URL of the task console, e.g. `http://127.0.0.1:8765`; present when the stack runs it. */
  console?: string;
}

/** A stack that {@link startStack} started and that is ready. */
export interface RunningStack {
  /** Its state directory. */
  stateDir: string;
  /** Ports in use. */
  ports: StackPorts;
  /** Where to send telemetry and where to query it. */
  endpoints: StackEndpoints;
  /** The started processes. */
  components: StackComponentState[];
  /** Stops this stack; same as `stopStack(stateDir)`. */
  stop(): Promise<StopStackResult>;
}

/** Outcome of {@link stopStack} for one component. */
export interface StoppedComponent {
  /** The component. */
  name: StackComponentName;
  /** Its pid when it was started. */
  pid: number;
  /**
   * `stopped`: it was running and now is not; `not-running`: it had already exited, or the pid
   * now belongs to another process, which is left alone; `killed`: it ignored SIGTERM and got
   * SIGKILL.
   */
  outcome: 'stopped' | 'killed' | 'not-running';
}

/** Result of {@link stopStack}. */
export interface StopStackResult {
  /** The state directory. */
  stateDir: string;
  /** One entry per component the state directory recorded; empty when no stack was recorded. */
  components: StoppedComponent[];
}

/** Status of one component, from {@link stackStatus}. */
export interface StackComponentStatus {
  /** The component. */
  name: StackComponentName;
  /** Its recorded pid. */
  pid: number;
  /** The recorded process is still alive (same pid, command line and start time). */
  running: boolean;
  /** Its ready URL answered 200. */
  ready: boolean;
  /** The ready URL. */
  readyUrl: string;
  /** Its log file. */
  logFile: string;
}

/** Result of {@link stackStatus}. */
export interface StackStatus {
  /** The state directory. */
  stateDir: string;
  /** Whether a stack is recorded in the state directory at all. */
  recorded: boolean;
  /** Ports the recorded stack uses; absent when none is recorded. */
  ports?: StackPorts;
  /** Endpoints of the recorded stack; absent when none is recorded. */
  endpoints?: StackEndpoints;
  /** How the recorded stack's collector sends task metrics; absent when none is recorded. */
  metricsVia?: MetricsVia;
  /** One entry per recorded component. */
  components: StackComponentStatus[];
}
