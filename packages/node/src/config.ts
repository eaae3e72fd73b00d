import { createHash, randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultServiceName } from '@opentelemetry/resources';
import { TelemetryConfigError } from './config-error.js';
import type {
  HistogramName,
  LogLevelName,
  OtlpSignalConfig,
  ResolvedTelemetryConfig,
  SpoolConfig,
} from './internal-types.js';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME } from './semconv.js';
import type {
  MetricsExporterName,
  ResourceAttributeValue,
  SamplerName,
  TelemetryOptions,
  TracesExporterName,
} from './types.js';

/** Every default of {@link TelemetryOptions}, in one place. */
export const DEFAULTS = {
  tracesExporter: 'otlp',
  metricsExporter: 'otlp',
  otlpEndpoint: 'http://localhost:4318',
  otlpTimeoutMs: 10_000,
  metricExportIntervalMs: 60_000,
  metricExportTimeoutMs: 30_000,
  spanExportDelayMs: 1_000,
  prometheusHost: 'localhost',
  prometheusPort: 9464,
  sampler: 'parentbased_always_on',
  samplerArg: 1,
  flushTimeoutMs: 5_000,
  handleSignals: true,
  spoolEnabled: true,
  spoolMaxMiB: 100,
} as const;

const TRACES_EXPORTERS: readonly TracesExporterName[] = ['otlp', 'console', 'none'];
const METRICS_EXPORTERS: readonly MetricsExporterName[] = ['otlp', 'prometheus', 'console', 'none'];
const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];
const LOG_LEVELS: readonly LogLevelName[] = [
  'none',
  'error',
  'warn',
  'info',
  'debug',
  'verbose',
  'all',
];

type Env = Readonly<Record<string, string | undefined>>;

/** One configured value and where it came from, so an error can name both. */
interface Setting {
  /** `OTEL_TRACES_EXPORTER` or `options.tracesExporter`. */
  name: string;
  /** The setting with its value as the user wrote it, for messages. */
  shown: string;
  value: unknown;
  fromEnv: boolean;
}

function option(name: keyof TelemetryOptions, value: unknown): Setting | undefined {
  if (value === undefined) return undefined;
  const name_ = `options.${name}`;
  return { name: name_, shown: `${name_}=${JSON.stringify(value)}`, value, fromEnv: false };
}

/** Per the specification an empty variable counts as unset. */
function variable(env: Env, name: string): Setting | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  return { name, shown: `${name}="${raw}"`, value: raw, fromEnv: true };
}

function firstVariable(env: Env, names: readonly string[]): Setting | undefined {
  for (const name of names) {
    const setting = variable(env, name);
    if (setting) return setting;
  }
  return undefined;
}

function fail(setting: Setting, problem: string): never {
  throw new TelemetryConfigError(setting.name, `tasklens: ${setting.shown} ${problem}`);
}

function parseInteger(setting: Setting, min: number, max: number): number {
  const { value } = setting;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    fail(
      setting,
      max === Number.MAX_SAFE_INTEGER
        ? `is not an integer >= ${min}`
        : `is not an integer from ${min} to ${max}`,
    );
  }
  return number;
}

/** At most this many boundaries per histogram: every one is a series per task and outcome. */
const MAX_BUCKETS = 64;

function parseBuckets(setting: Setting): number[] {
  const { value } = setting;
  const entries: unknown[] = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(',').map((entry) => (entry.trim() === '' ? NaN : Number(entry)))
      : [NaN];
  const boundaries = entries.map((entry) => (typeof entry === 'number' ? entry : NaN));
  if (boundaries.length === 0 || boundaries.length > MAX_BUCKETS) {
    fail(setting, `is not a list of 1 to ${MAX_BUCKETS} bucket boundaries`);
  }
  boundaries.forEach((boundary, index) => {
    if (!Number.isFinite(boundary) || boundary <= 0 || boundary <= (boundaries[index - 1] ?? 0)) {
      fail(setting, 'is not a list of increasing positive numbers of seconds');
    }
  });
  return boundaries;
}

const HISTOGRAM_BUCKET_VARIABLES: Record<HistogramName, string> = {
  duration: 'TASKLENS_DURATION_BUCKETS',
  wait: 'TASKLENS_WAIT_BUCKETS',
  pipeline: 'TASKLENS_PIPELINE_BUCKETS',
};

function resolveHistogramBuckets(
  options: TelemetryOptions,
  env: Env,
): Partial<Record<HistogramName, number[]>> {
  const buckets: Partial<Record<HistogramName, number[]>> = {};
  for (const [name, variableName] of Object.entries(HISTOGRAM_BUCKET_VARIABLES) as [
    HistogramName,
    string,
  ][]) {
    const given = options.histogramBuckets?.[name];
    const setting: Setting | undefined =
      given === undefined
        ? variable(env, variableName)
        : {
            name: `options.histogramBuckets.${name}`,
            shown: `options.histogramBuckets.${name}=${JSON.stringify(given)}`,
            value: given,
            fromEnv: false,
          };
    if (setting !== undefined) buckets[name] = parseBuckets(setting);
  }
  return buckets;
}

function parseMilliseconds(setting: Setting | undefined, fallback: number): number {
  return setting ? parseInteger(setting, 1, Number.MAX_SAFE_INTEGER) : fallback;
}

function parseChoice<T extends string>(setting: Setting, allowed: readonly T[]): T {
  const text = typeof setting.value === 'string' ? setting.value : '';
  const normalised = setting.fromEnv ? text.toLowerCase() : text;
  const match = allowed.find((candidate) => candidate === normalised);
  if (match === undefined) fail(setting, `is not one of ${allowed.join(', ')}`);
  return match;
}

function parseExporterList<T extends string>(
  setting: Setting | undefined,
  allowed: readonly T[],
  fallback: T,
): Exclude<T, 'none'>[] {
  if (!setting) return fallback === 'none' ? [] : [fallback as Exclude<T, 'none'>];
  const { value } = setting;
  const names: unknown[] =
    typeof value === 'string'
      ? value.split(',').map((part) => part.trim())
      : Array.isArray(value)
        ? value
        : [value];
  const chosen = new Set<T>();
  for (const name of names) {
    const text = typeof name === 'string' ? (setting.fromEnv ? name.toLowerCase() : name) : '';
    const match = allowed.find((candidate) => candidate === text);
    if (match === undefined) fail(setting, `is not one of ${allowed.join(', ')}`);
    chosen.add(match);
  }
  if (chosen.has('none' as T)) {
    if (chosen.size > 1) fail(setting, 'combines none with other exporters');
    return [];
  }
  return [...chosen] as Exclude<T, 'none'>[];
}

function parseUrl(setting: Setting): URL {
  let url: URL | undefined;
  try {
    url = typeof setting.value === 'string' ? new URL(setting.value) : undefined;
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    fail(setting, 'is not an http(s) URL');
  }
  return url;
}

/** The specification's base-endpoint rule: the signal path goes after the base's own path. */
function appendSignalPath(base: URL, signalPath: string): string {
  const url = new URL(base.href);
  url.pathname = url.pathname.replace(/\/+$/, '') + signalPath;
  return url.href;
}

function parseRatio(setting: Setting): number {
  const { value } = setting;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value !== ''
        ? Number(value)
        : NaN;
  if (!(number >= 0 && number <= 1)) fail(setting, 'is not a number from 0 to 1');
  return number;
}

function parseBoolean(setting: Setting): boolean {
  if (typeof setting.value === 'boolean') return setting.value;
  const text = typeof setting.value === 'string' ? setting.value.toLowerCase() : '';
  if (text !== 'true' && text !== 'false') fail(setting, 'is not true or false');
  return text === 'true';
}

/** `key=value,key2=value2` with percent-encoded values, as in OTEL_RESOURCE_ATTRIBUTES. */
function parseKeyValueList(setting: Setting | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (!setting) return result;
  for (const entry of String(setting.value).split(',')) {
    if (entry.trim() === '') continue;
    const separator = entry.indexOf('=');
    const key = separator > 0 ? entry.slice(0, separator).trim() : '';
    if (key === '') fail(setting, `has an entry that is not key=value: "${entry.trim()}"`);
    try {
      result[key] = decodeURIComponent(entry.slice(separator + 1).trim());
    } catch {
      fail(setting, `has a badly percent-encoded value for "${key}"`);
    }
  }
  return result;
}

function resolveOtlpSignal(
  options: TelemetryOptions,
  env: Env,
  signal: 'TRACES' | 'METRICS',
  flushTimeoutMs: number,
): OtlpSignalConfig {
  const signalPath = signal === 'TRACES' ? '/v1/traces' : '/v1/metrics';
  const signalOption = option(
    signal === 'TRACES' ? 'otlpTracesEndpoint' : 'otlpMetricsEndpoint',
    signal === 'TRACES' ? options.otlpTracesEndpoint : options.otlpMetricsEndpoint,
  );
  const baseOption = option('otlpEndpoint', options.otlpEndpoint);
  const signalVariable = variable(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  const baseVariable = variable(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');

  let url: string;
  if (signalOption) url = parseUrl(signalOption).href;
  else if (baseOption) url = appendSignalPath(parseUrl(baseOption), signalPath);
  else if (signalVariable) url = parseUrl(signalVariable).href;
  else if (baseVariable) url = appendSignalPath(parseUrl(baseVariable), signalPath);
  else url = appendSignalPath(new URL(DEFAULTS.otlpEndpoint), signalPath);

  const headers = {
    ...parseKeyValueList(variable(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
    ...parseKeyValueList(variable(env, `OTEL_EXPORTER_OTLP_${signal}_HEADERS`)),
    ...options.otlpHeaders,
  };

  const timeoutMs = parseMilliseconds(
    option('otlpTimeoutMs', options.otlpTimeoutMs) ??
      firstVariable(env, [`OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`, 'OTEL_EXPORTER_OTLP_TIMEOUT']),
    DEFAULTS.otlpTimeoutMs,
  );
  // The exporter's retry timers and sockets hold the process open until its own deadline, so an
  // export must never outlive a flush: otherwise a job whose collector is down lingers after
  // shutdown() has given up.
  return { url, headers, timeoutMs: Math.min(timeoutMs, flushTimeoutMs) };
}

function resolveResourceAttributes(
  options: TelemetryOptions,
  env: Env,
): Record<string, ResourceAttributeValue> {
  const attributes: Record<string, ResourceAttributeValue> = {
    [ATTR_SERVICE_NAME]: defaultServiceName(),
    ...parseKeyValueList(variable(env, 'OTEL_RESOURCE_ATTRIBUTES')),
  };
  const serviceNameVariable = variable(env, 'OTEL_SERVICE_NAME');
  if (serviceNameVariable) attributes[ATTR_SERVICE_NAME] = String(serviceNameVariable.value);
  Object.assign(attributes, options.resourceAttributes);
  if (options.serviceName !== undefined) attributes[ATTR_SERVICE_NAME] = options.serviceName;
  if (options.serviceInstanceId !== undefined) {
    attributes[ATTR_SERVICE_INSTANCE_ID] = options.serviceInstanceId;
  }
  attributes[ATTR_SERVICE_INSTANCE_ID] ??= randomUUID();
  return attributes;
}

/** A folder name for a service: readable, and distinct for names that differ only in odd characters. */
function serviceFolderName(serviceName: string): string {
  const readable = serviceName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  if (readable === serviceName && readable !== '' && !readable.startsWith('.')) return readable;
  const hash = createHash('sha256').update(serviceName).digest('hex').slice(0, 8);
  return `${readable.replace(/^\./, '_')}-${hash}`;
}

function resolveSpool(
  options: TelemetryOptions,
  env: Env,
  serviceName: string,
): SpoolConfig | undefined {
  const enabled =
    option('spoolEnabled', options.spoolEnabled) ?? variable(env, 'TASKLENS_SPOOL_ENABLED');
  if (!(enabled ? parseBoolean(enabled) : DEFAULTS.spoolEnabled)) return undefined;
  const directory =
    option('spoolDirectory', options.spoolDirectory) ?? variable(env, 'TASKLENS_SPOOL_DIR');
  if (directory && (typeof directory.value !== 'string' || directory.value.trim() === '')) {
    fail(directory, 'is not a directory path');
  }
  const maxMiB =
    option('spoolMaxMiB', options.spoolMaxMiB) ?? variable(env, 'TASKLENS_SPOOL_MAX_MIB');
  const stateHome = variable(env, 'XDG_STATE_HOME')?.value as string | undefined;
  const base = directory
    ? resolve(String(directory.value))
    : join(stateHome ?? join(homedir(), '.local', 'state'), 'tasklens', 'spool');
  return {
    directory: join(base, serviceFolderName(serviceName)),
    maxBytes: (maxMiB ? parseInteger(maxMiB, 1, 1_048_576) : DEFAULTS.spoolMaxMiB) * 1024 * 1024,
  };
}

/**
 * Whether telemetry should start: `options.enabled`, else not `OTEL_SDK_DISABLED=true`.
 * Checked before the rest so a disabled setup never fails on other settings.
 * @throws TelemetryConfigError when OTEL_SDK_DISABLED is neither true nor false.
 */
export function resolveEnabled(options: TelemetryOptions = {}): boolean {
  if (options.enabled !== undefined) return options.enabled;
  const disabled = variable(options.env ?? process.env, 'OTEL_SDK_DISABLED');
  return disabled ? !parseBoolean(disabled) : true;
}

/**
 * Merges options over environment variables over {@link DEFAULTS}, validating every value.
 * @throws TelemetryConfigError naming the first bad setting and its value.
 */
export function resolveConfig(options: TelemetryOptions = {}): ResolvedTelemetryConfig {
  const env = options.env ?? process.env;
  const samplerSetting = option('sampler', options.sampler) ?? variable(env, 'OTEL_TRACES_SAMPLER');
  const sampler = samplerSetting ? parseChoice(samplerSetting, SAMPLERS) : DEFAULTS.sampler;
  const samplerArgSetting =
    option('samplerArg', options.samplerArg) ?? variable(env, 'OTEL_TRACES_SAMPLER_ARG');
  const usesRatio = sampler === 'traceidratio' || sampler === 'parentbased_traceidratio';
  const metricExportIntervalMs = parseMilliseconds(
    option('metricExportIntervalMs', options.metricExportIntervalMs) ??
      variable(env, 'OTEL_METRIC_EXPORT_INTERVAL'),
    DEFAULTS.metricExportIntervalMs,
  );
  const metricExportTimeoutMs = parseMilliseconds(
    option('metricExportTimeoutMs', options.metricExportTimeoutMs) ??
      variable(env, 'OTEL_METRIC_EXPORT_TIMEOUT'),
    DEFAULTS.metricExportTimeoutMs,
  );
  const spanExportDelayMs = parseMilliseconds(
    option('spanExportDelayMs', options.spanExportDelayMs) ??
      variable(env, 'OTEL_BSP_SCHEDULE_DELAY'),
    DEFAULTS.spanExportDelayMs,
  );
  const prometheusPort =
    option('prometheusPort', options.prometheusPort) ??
    variable(env, 'OTEL_EXPORTER_PROMETHEUS_PORT');
  const prometheusHost =
    option('prometheusHost', options.prometheusHost) ??
    variable(env, 'OTEL_EXPORTER_PROMETHEUS_HOST');
  const logLevel = variable(env, 'OTEL_LOG_LEVEL');
  const flushTimeoutMs = parseMilliseconds(
    option('flushTimeoutMs', options.flushTimeoutMs) ?? variable(env, 'TASKLENS_FLUSH_TIMEOUT_MS'),
    DEFAULTS.flushTimeoutMs,
  );

  const resourceAttributes = resolveResourceAttributes(options, env);
  return {
    resourceAttributes,
    tracesExporters: parseExporterList(
      option('tracesExporter', options.tracesExporter) ?? variable(env, 'OTEL_TRACES_EXPORTER'),
      TRACES_EXPORTERS,
      DEFAULTS.tracesExporter,
    ),
    metricsExporters: parseExporterList(
      option('metricsExporter', options.metricsExporter) ?? variable(env, 'OTEL_METRICS_EXPORTER'),
      METRICS_EXPORTERS,
      DEFAULTS.metricsExporter,
    ),
    otlpTraces: resolveOtlpSignal(options, env, 'TRACES', flushTimeoutMs),
    otlpMetrics: resolveOtlpSignal(options, env, 'METRICS', flushTimeoutMs),
    histogramBuckets: resolveHistogramBuckets(options, env),
    metricExportIntervalMs,
    // The SDK rejects a push timeout longer than the interval.
    metricExportTimeoutMs: Math.min(metricExportTimeoutMs, metricExportIntervalMs),
    spanExportDelayMs,
    prometheusHost: prometheusHost ? String(prometheusHost.value) : DEFAULTS.prometheusHost,
    prometheusPort: prometheusPort
      ? parseInteger(prometheusPort, 0, 65_535)
      : DEFAULTS.prometheusPort,
    sampler,
    samplerArg:
      usesRatio && samplerArgSetting ? parseRatio(samplerArgSetting) : DEFAULTS.samplerArg,
    flushTimeoutMs,
    handleSignals: options.handleSignals ?? DEFAULTS.handleSignals,
    spool: resolveSpool(options, env, String(resourceAttributes[ATTR_SERVICE_NAME])),
    logLevel: logLevel ? parseChoice(logLevel, LOG_LEVELS) : undefined,
  };
}
