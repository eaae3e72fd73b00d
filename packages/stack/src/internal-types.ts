import type {
  GatewayOptions,
  MetricsVia,
  StackBinaries,
  StackComponentName,
  StackComponentState,
  StackPorts,
  StartStackOptions,
} from './types.js';

/** Everything a component definition needs to build its command line and environment. */
export interface ComponentContext {
  /** The tasklens repository (holds deploy/ and otel-collector.yaml). */
  repoDir: string;
  /** The stack's state directory. */
  stateDir: string;
  /** Ports in use. */
  ports: StackPorts;
  /** Executables. */
  binaries: StackBinaries;
  /** Bearer token the collector requires, when auth is on. */
  bearerToken: string | undefined;
  /** The gateway stack's options; undefined for the single-collector stack. */
  gateway: GatewayOptions | undefined;
  /** Options of the generated Prometheus and Alertmanager configs, as given to startStack. */
  configOptions: GeneratedConfigOptions;
  /** The `tasklens` command's file that serves the console, when the stack runs it. */
  consoleScript?: string | undefined;
}

/**
 * What a component's environment and ready URL depend on: all known again from the state file
 * (and the bearer token), so a recorded component can be restarted as it was started.
 */
export type ComponentRuntimeContext = Pick<
  ComponentContext,
  'stateDir' | 'ports' | 'bearerToken' | 'gateway'
> & { configOptions: MetricsOptions };

/** Where task metrics go: recorded in the state file, so a restart knows them. */
export type MetricsOptions = Pick<GeneratedConfigOptions, 'metricsStore' | 'metricsVia'>;

/** The {@link StartStackOptions} fields that shape the configs the stack writes. */
export type GeneratedConfigOptions = Pick<
  StartStackOptions,
  | 'alertWebhookUrl'
  | 'alertGroupWait'
  | 'alertGroupInterval'
  | 'evaluationInterval'
  | 'rulesDir'
  | 'extraRuleFiles'
  | 'metricsStore'
  | 'metricsVia'
>;

/**
 * One process of the stack. Adding a component is one more entry in the list `stackComponents`
 * returns, plus its ports and binary.
 */
export interface ComponentDefinition {
  /** Name, also the base name of its log file. */
  name: StackComponentName;
  /** Which executable runs it. */
  binary: keyof StackBinaries;
  /** Ports it listens on, checked to be free before anything starts. */
  ports: (keyof StackPorts)[];
  /** The address it listens on. Default 127.0.0.1. */
  host?: string;
  /** Writes files it needs into the state directory before it starts. */
  prepare?(context: ComponentContext): Promise<void>;
  /**
   * A command that runs before the executable and ends by exec'ing it (its arguments follow), so
   * the process keeps the pid and ends with the executable's command line. Default: none.
   */
  launcher?(context: ComponentRuntimeContext): string[];
  /** Arguments after the executable. */
  args(context: ComponentContext): string[];
  /** Environment variables added to the parent's. */
  env(context: ComponentRuntimeContext): Record<string, string>;
  /** URL that answers 200 once it is ready. */
  readyUrl(context: ComponentRuntimeContext): string;
}

/** The content of `<stateDir>/stack.json`. */
export interface StackStateFile {
  /** Format version of this file. */
  version: 1;
  /** When the stack was started (ISO 8601). */
  startedAt: string;
  /** Ports in use. */
  ports: StackPorts;
  /** Started components, in start order. */
  components: StackComponentState[];
  /** The gateway stack's options; absent for the single-collector stack. */
  gateway?: GatewayOptions;
  /** Whether the metrics store runs (absent in files written before it existed: false). */
  metricsStore?: boolean;
  /** How metrics leave the collector (absent in files written before it existed: 'otlp'). */
  metricsVia?: MetricsVia;
}
