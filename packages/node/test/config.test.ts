import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TelemetryConfigError } from '../src/config-error.js';
import { DEFAULTS, resolveConfig, resolveEnabled } from '../src/config.js';
import type { TelemetryOptions } from '../src/types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function fromEnv(env: Record<string, string>, options: TelemetryOptions = {}) {
  return resolveConfig({ ...options, env });
}

function configError(options: TelemetryOptions): TelemetryConfigError {
  try {
    resolveConfig(options);
  } catch (error) {
    if (error instanceof TelemetryConfigError) return error;
    throw error;
  }
  throw new Error('expected a TelemetryConfigError');
}

describe('resolveConfig defaults', () => {
  it('uses the specification defaults with an empty environment', () => {
    const config = fromEnv({});
    expect(config).toEqual({
      resourceAttributes: {
        'service.name': `unknown_service:${process.argv0}`,
        'service.instance.id': expect.stringMatching(UUID) as unknown,
      },
      tracesExporters: ['otlp'],
      metricsExporters: ['otlp'],
      // 10000 by the specification, capped at the flush timeout.
      otlpTraces: { url: 'http://localhost:4318/v1/traces', headers: {}, timeoutMs: 5_000 },
      otlpMetrics: { url: 'http://localhost:4318/v1/metrics', headers: {}, timeoutMs: 5_000 },
      histogramBuckets: {},
      metricExportIntervalMs: 60_000,
      metricExportTimeoutMs: 30_000,
      spanExportDelayMs: 1000,
      prometheusHost: 'localhost',
      prometheusPort: 9464,
      sampler: 'parentbased_always_on',
      samplerArg: 1,
      flushTimeoutMs: 5_000,
      handleSignals: true,
      logLevel: undefined,
      spool: {
        directory: expect.stringMatching(
          new RegExp(
            `^${join(homedir(), '.local/state/tasklens/spool/unknown_service_')}.*-[0-9a-f]{8}$`,
          ),
        ) as unknown,
        maxBytes: 100 * 1024 * 1024,
      },
    });
  });

  it('gives every process a new service.instance.id', () => {
    const first = fromEnv({}).resourceAttributes['service.instance.id'];
    const second = fromEnv({}).resourceAttributes['service.instance.id'];
    expect(first).not.toBe(second);
  });

  it('treats empty and blank variables as unset', () => {
    const config = fromEnv({ OTEL_TRACES_EXPORTER: '', OTEL_METRIC_EXPORT_INTERVAL: '  ' });
    expect(config.tracesExporters).toEqual(['otlp']);
    expect(config.metricExportIntervalMs).toBe(DEFAULTS.metricExportIntervalMs);
  });
});

describe('resolveConfig resource', () => {
  it('reads OTEL_RESOURCE_ATTRIBUTES with percent-decoded values', () => {
    const config = fromEnv({
      OTEL_RESOURCE_ATTRIBUTES:
        'deployment.environment.name=prod, team=mail%20ops,service.instance.id=worker-7,',
    });
    expect(config.resourceAttributes).toEqual({
      'service.name': `unknown_service:${process.argv0}`,
      'deployment.environment.name': 'prod',
      team: 'mail ops',
      'service.instance.id': 'worker-7',
    });
  });

  it('prefers OTEL_SERVICE_NAME over service.name in OTEL_RESOURCE_ATTRIBUTES', () => {
    const config = fromEnv({
      OTEL_SERVICE_NAME: 'mailer',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes',
    });
    expect(config.resourceAttributes['service.name']).toBe('mailer');
  });

  it('lets options override the environment', () => {
    const config = fromEnv(
      {
        OTEL_SERVICE_NAME: 'mailer',
        OTEL_RESOURCE_ATTRIBUTES: 'team=env,service.instance.id=env-id,region=eu',
      },
      {
        serviceName: 'billing',
        serviceInstanceId: 'option-id',
        resourceAttributes: { team: 'option', shard: 3 },
      },
    );
    expect(config.resourceAttributes).toEqual({
      'service.name': 'billing',
      'service.instance.id': 'option-id',
      team: 'option',
      region: 'eu',
      shard: 3,
    });
  });

  it('takes service.name from options.resourceAttributes over OTEL_SERVICE_NAME', () => {
    const config = fromEnv(
      { OTEL_SERVICE_NAME: 'mailer' },
      { resourceAttributes: { 'service.name': 'billing' } },
    );
    expect(config.resourceAttributes['service.name']).toBe('billing');
  });
});

describe('resolveConfig exporters', () => {
  it('reads comma-separated, case-insensitive exporter lists', () => {
    const config = fromEnv({
      OTEL_TRACES_EXPORTER: 'OTLP, console',
      OTEL_METRICS_EXPORTER: 'prometheus,otlp,prometheus',
    });
    expect(config.tracesExporters).toEqual(['otlp', 'console']);
    expect(config.metricsExporters).toEqual(['prometheus', 'otlp']);
  });

  it('turns export off with none', () => {
    const config = fromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' });
    expect(config.tracesExporters).toEqual([]);
    expect(config.metricsExporters).toEqual([]);
  });

  it('lets options override the environment, as a name or a list', () => {
    const config = fromEnv(
      { OTEL_TRACES_EXPORTER: 'console', OTEL_METRICS_EXPORTER: 'console' },
      { tracesExporter: 'none', metricsExporter: ['otlp', 'prometheus'] },
    );
    expect(config.tracesExporters).toEqual([]);
    expect(config.metricsExporters).toEqual(['otlp', 'prometheus']);
  });
});

describe('resolveConfig OTLP endpoints, headers and timeouts', () => {
  it('appends the signal paths to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const config = fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318' });
    expect(config.otlpTraces.url).toBe('https://collector:4318/v1/traces');
    expect(config.otlpMetrics.url).toBe('https://collector:4318/v1/metrics');
  });

  it('keeps the base path and drops its trailing slash', () => {
    const config = fromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://gateway/otlp/' });
    expect(config.otlpTraces.url).toBe('http://gateway/otlp/v1/traces');
    expect(config.otlpMetrics.url).toBe('http://gateway/otlp/v1/metrics');
  });

  it('uses the per-signal endpoints as they are', () => {
    const config = fromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9000/',
    });
    expect(config.otlpTraces.url).toBe('http://traces:4318/custom');
    expect(config.otlpMetrics.url).toBe('http://metrics:9000/');
  });

  it('lets the endpoint options override every endpoint variable', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9000/',
    };
    const base = fromEnv(env, { otlpEndpoint: 'http://option:4318' });
    expect(base.otlpTraces.url).toBe('http://option:4318/v1/traces');
    expect(base.otlpMetrics.url).toBe('http://option:4318/v1/metrics');
    const perSignal = fromEnv(env, {
      otlpEndpoint: 'http://option:4318',
      otlpTracesEndpoint: 'http://option-traces/t',
      otlpMetricsEndpoint: 'http://option-metrics/m',
    });
    expect(perSignal.otlpTraces.url).toBe('http://option-traces/t');
    expect(perSignal.otlpMetrics.url).toBe('http://option-metrics/m');
  });

  it('merges headers: general, then per-signal, then options', () => {
    const config = fromEnv(
      {
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=env',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-signal=traces',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-signal=metrics,x-tenant=metrics',
      },
      { otlpHeaders: { 'x-from-code': '1', 'x-signal': 'code' } },
    );
    expect(config.otlpTraces.headers).toEqual({
      authorization: 'Bearer abc',
      'x-tenant': 'env',
      'x-signal': 'code',
      'x-from-code': '1',
    });
    expect(config.otlpMetrics.headers).toEqual({
      authorization: 'Bearer abc',
      'x-tenant': 'metrics',
      'x-signal': 'code',
      'x-from-code': '1',
    });
  });

  it('reads the general and per-signal timeouts, and the option over both', () => {
    const env = { OTEL_EXPORTER_OTLP_TIMEOUT: '2000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000' };
    const config = fromEnv(env);
    expect(config.otlpTraces.timeoutMs).toBe(2000);
    expect(config.otlpMetrics.timeoutMs).toBe(3000);
    const overridden = fromEnv(env, { otlpTimeoutMs: 1500 });
    expect(overridden.otlpTraces.timeoutMs).toBe(1500);
    expect(overridden.otlpMetrics.timeoutMs).toBe(1500);
  });

  it('caps the OTLP timeouts at the flush timeout', () => {
    const config = fromEnv({
      OTEL_EXPORTER_OTLP_TIMEOUT: '30000',
      TASKLENS_FLUSH_TIMEOUT_MS: '8000',
    });
    expect(config.otlpTraces.timeoutMs).toBe(8000);
    expect(config.otlpMetrics.timeoutMs).toBe(8000);
    expect(fromEnv({}, { flushTimeoutMs: 20_000 }).otlpTraces.timeoutMs).toBe(10_000);
  });
});

describe('resolveConfig metrics, Prometheus, sampler and flush', () => {
  it('reads the metric export interval and timeout', () => {
    const config = fromEnv({
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
      OTEL_METRIC_EXPORT_TIMEOUT: '500',
    });
    expect(config.metricExportIntervalMs).toBe(15_000);
    expect(config.metricExportTimeoutMs).toBe(500);
  });

  it('caps the metric export timeout at the interval', () => {
    const config = fromEnv({ OTEL_METRIC_EXPORT_INTERVAL: '1000' });
    expect(config.metricExportTimeoutMs).toBe(1000);
  });

  it('lets the metric options override the environment', () => {
    const config = fromEnv(
      { OTEL_METRIC_EXPORT_INTERVAL: '15000', OTEL_METRIC_EXPORT_TIMEOUT: '500' },
      { metricExportIntervalMs: 2000, metricExportTimeoutMs: 700 },
    );
    expect(config.metricExportIntervalMs).toBe(2000);
    expect(config.metricExportTimeoutMs).toBe(700);
  });

  it('exports spans after 1 s by default, OTEL_BSP_SCHEDULE_DELAY and the option overriding it', () => {
    expect(fromEnv({}).spanExportDelayMs).toBe(1000);
    expect(fromEnv({ OTEL_BSP_SCHEDULE_DELAY: '250' }).spanExportDelayMs).toBe(250);
    expect(
      fromEnv({ OTEL_BSP_SCHEDULE_DELAY: '250' }, { spanExportDelayMs: 50 }).spanExportDelayMs,
    ).toBe(50);
  });

  it('reads the Prometheus host and port, options over environment', () => {
    const env = { OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0', OTEL_EXPORTER_PROMETHEUS_PORT: '9100' };
    expect(fromEnv(env)).toMatchObject({ prometheusHost: '0.0.0.0', prometheusPort: 9100 });
    expect(fromEnv(env, { prometheusHost: '127.0.0.1', prometheusPort: 0 })).toMatchObject({
      prometheusHost: '127.0.0.1',
      prometheusPort: 0,
    });
  });

  it.each(['always_on', 'always_off', 'parentbased_always_on', 'parentbased_always_off'] as const)(
    'reads OTEL_TRACES_SAMPLER=%s and ignores the argument',
    (sampler) => {
      const config = fromEnv({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: 'ignored' });
      expect(config.sampler).toBe(sampler);
      expect(config.samplerArg).toBe(1);
    },
  );

  it.each(['traceidratio', 'parentbased_traceidratio'] as const)(
    'reads OTEL_TRACES_SAMPLER=%s with its ratio',
    (sampler) => {
      const config = fromEnv({ OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: '0.25' });
      expect(config.sampler).toBe(sampler);
      expect(config.samplerArg).toBe(0.25);
    },
  );

  it('defaults the ratio to 1 and lets the sampler options override the environment', () => {
    expect(fromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio' }).samplerArg).toBe(1);
    const config = fromEnv(
      { OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: '0.5' },
      { sampler: 'parentbased_traceidratio', samplerArg: 0.1 },
    );
    expect(config.sampler).toBe('parentbased_traceidratio');
    expect(config.samplerArg).toBe(0.1);
  });

  it('reads TASKLENS_FLUSH_TIMEOUT_MS, option over environment', () => {
    expect(fromEnv({ TASKLENS_FLUSH_TIMEOUT_MS: '750' }).flushTimeoutMs).toBe(750);
    expect(
      fromEnv({ TASKLENS_FLUSH_TIMEOUT_MS: '750' }, { flushTimeoutMs: 90 }).flushTimeoutMs,
    ).toBe(90);
  });

  it('takes handleSignals from the option only', () => {
    expect(fromEnv({}, { handleSignals: false }).handleSignals).toBe(false);
  });

  it('reads OTEL_LOG_LEVEL case-insensitively', () => {
    expect(fromEnv({ OTEL_LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
  });
});

describe('resolveConfig spool', () => {
  it('keeps each service in its own folder of the spool directory', () => {
    expect(
      fromEnv({ OTEL_SERVICE_NAME: 'mailer', TASKLENS_SPOOL_DIR: '/var/spool/tl' }).spool,
    ).toEqual({ directory: '/var/spool/tl/mailer', maxBytes: 100 * 1024 * 1024 });
    expect(
      fromEnv({ OTEL_SERVICE_NAME: 'mailer', XDG_STATE_HOME: '/state' }).spool?.directory,
    ).toBe('/state/tasklens/spool/mailer');
  });

  it('gives names with odd characters a readable folder that cannot collide', () => {
    const slash = fromEnv({ OTEL_SERVICE_NAME: 'a/b', TASKLENS_SPOOL_DIR: '/s' }).spool?.directory;
    const underscore = fromEnv({ OTEL_SERVICE_NAME: 'a_b', TASKLENS_SPOOL_DIR: '/s' }).spool
      ?.directory;
    const dots = fromEnv({ OTEL_SERVICE_NAME: '..', TASKLENS_SPOOL_DIR: '/s' }).spool?.directory;
    expect(slash).toMatch(/^\/s\/a_b-[0-9a-f]{8}$/);
    expect(underscore).toBe('/s/a_b');
    expect(dots).toMatch(/^\/s\/_\.-[0-9a-f]{8}$/);
  });

  it('takes the cap in MiB and can be switched off', () => {
    expect(fromEnv({ TASKLENS_SPOOL_MAX_MIB: '5' }).spool?.maxBytes).toBe(5 * 1024 * 1024);
    expect(fromEnv({}, { spoolMaxMiB: 2 }).spool?.maxBytes).toBe(2 * 1024 * 1024);
    expect(fromEnv({ TASKLENS_SPOOL_ENABLED: 'false' }).spool).toBeUndefined();
    expect(
      fromEnv({ TASKLENS_SPOOL_ENABLED: 'true' }, { spoolEnabled: false }).spool,
    ).toBeUndefined();
    expect(fromEnv({}, { spoolDirectory: 'relative/dir', serviceName: 's' }).spool?.directory).toBe(
      join(process.cwd(), 'relative/dir/s'),
    );
  });
});

describe('resolveEnabled', () => {
  it('is enabled unless OTEL_SDK_DISABLED is true', () => {
    expect(resolveEnabled({ env: {} })).toBe(true);
    expect(resolveEnabled({ env: { OTEL_SDK_DISABLED: 'false' } })).toBe(true);
    expect(resolveEnabled({ env: { OTEL_SDK_DISABLED: 'TRUE' } })).toBe(false);
  });

  it('lets the option override the environment', () => {
    expect(resolveEnabled({ enabled: true, env: { OTEL_SDK_DISABLED: 'true' } })).toBe(true);
    expect(resolveEnabled({ enabled: false, env: {} })).toBe(false);
  });

  it('rejects a value that is not a boolean', () => {
    expect(() => resolveEnabled({ env: { OTEL_SDK_DISABLED: 'yes' } })).toThrow(
      new TelemetryConfigError(
        'OTEL_SDK_DISABLED',
        'tasklens: OTEL_SDK_DISABLED="yes" is not true or false',
      ),
    );
  });
});

describe('resolveConfig errors', () => {
  it.each<[string, TelemetryOptions, string, string]>([
    [
      'spool switch that is not a boolean',
      { env: { TASKLENS_SPOOL_ENABLED: 'off' } },
      'TASKLENS_SPOOL_ENABLED',
      'tasklens: TASKLENS_SPOOL_ENABLED="off" is not true or false',
    ],
    [
      'spool cap of zero',
      { env: { TASKLENS_SPOOL_MAX_MIB: '0' } },
      'TASKLENS_SPOOL_MAX_MIB',
      'tasklens: TASKLENS_SPOOL_MAX_MIB="0" is not an integer from 1 to 1048576',
    ],
    [
      'empty spool directory option',
      { spoolDirectory: ' ' },
      'options.spoolDirectory',
      'tasklens: options.spoolDirectory=" " is not a directory path',
    ],
    [
      'unknown traces exporter',
      { env: { OTEL_TRACES_EXPORTER: 'jager' } },
      'OTEL_TRACES_EXPORTER',
      'tasklens: OTEL_TRACES_EXPORTER="jager" is not one of otlp, console, none',
    ],
    [
      'prometheus for traces',
      { env: { OTEL_TRACES_EXPORTER: 'otlp,prometheus' } },
      'OTEL_TRACES_EXPORTER',
      'tasklens: OTEL_TRACES_EXPORTER="otlp,prometheus" is not one of otlp, console, none',
    ],
    [
      'unknown metrics exporter',
      { env: { OTEL_METRICS_EXPORTER: 'statsd' } },
      'OTEL_METRICS_EXPORTER',
      'tasklens: OTEL_METRICS_EXPORTER="statsd" is not one of otlp, prometheus, console, none',
    ],
    [
      'none combined with an exporter',
      { env: { OTEL_METRICS_EXPORTER: 'none,otlp' } },
      'OTEL_METRICS_EXPORTER',
      'tasklens: OTEL_METRICS_EXPORTER="none,otlp" combines none with other exporters',
    ],
    [
      'unknown exporter option',
      { tracesExporter: 'jaeger' as 'otlp' },
      'options.tracesExporter',
      'tasklens: options.tracesExporter="jaeger" is not one of otlp, console, none',
    ],
    [
      'bad base endpoint',
      { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' } },
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'tasklens: OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" is not an http(s) URL',
    ],
    [
      'unparsable traces endpoint',
      { env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://' } },
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'tasklens: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://" is not an http(s) URL',
    ],
    [
      'bad metrics endpoint',
      { env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'grpc://collector:4317' } },
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
      'tasklens: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="grpc://collector:4317" is not an http(s) URL',
    ],
    [
      'bad endpoint option',
      { otlpEndpoint: 'localhost' },
      'options.otlpEndpoint',
      'tasklens: options.otlpEndpoint="localhost" is not an http(s) URL',
    ],
    [
      'header without a value',
      { env: { OTEL_EXPORTER_OTLP_HEADERS: 'authorization' } },
      'OTEL_EXPORTER_OTLP_HEADERS',
      'tasklens: OTEL_EXPORTER_OTLP_HEADERS="authorization" has an entry that is not key=value: "authorization"',
    ],
    [
      'badly encoded per-signal header',
      { env: { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-key=%E0%A4%A' } },
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
      'tasklens: OTEL_EXPORTER_OTLP_TRACES_HEADERS="x-key=%E0%A4%A" has a badly percent-encoded value for "x-key"',
    ],
    [
      'resource attribute without a key',
      { env: { OTEL_RESOURCE_ATTRIBUTES: 'team=mail,=orphan' } },
      'OTEL_RESOURCE_ATTRIBUTES',
      'tasklens: OTEL_RESOURCE_ATTRIBUTES="team=mail,=orphan" has an entry that is not key=value: "=orphan"',
    ],
    [
      'non-numeric OTLP timeout',
      { env: { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' } },
      'OTEL_EXPORTER_OTLP_TIMEOUT',
      'tasklens: OTEL_EXPORTER_OTLP_TIMEOUT="10s" is not an integer >= 1',
    ],
    [
      'zero per-signal OTLP timeout',
      { env: { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '0' } },
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
      'tasklens: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT="0" is not an integer >= 1',
    ],
    [
      'non-numeric metric interval',
      { env: { OTEL_METRIC_EXPORT_INTERVAL: 'often' } },
      'OTEL_METRIC_EXPORT_INTERVAL',
      'tasklens: OTEL_METRIC_EXPORT_INTERVAL="often" is not an integer >= 1',
    ],
    [
      'fractional metric timeout',
      { env: { OTEL_METRIC_EXPORT_TIMEOUT: '1.5' } },
      'OTEL_METRIC_EXPORT_TIMEOUT',
      'tasklens: OTEL_METRIC_EXPORT_TIMEOUT="1.5" is not an integer >= 1',
    ],
    [
      'negative interval option',
      { metricExportIntervalMs: -5 },
      'options.metricExportIntervalMs',
      'tasklens: options.metricExportIntervalMs=-5 is not an integer >= 1',
    ],
    [
      'Prometheus port out of range',
      { env: { OTEL_EXPORTER_PROMETHEUS_PORT: '70000' } },
      'OTEL_EXPORTER_PROMETHEUS_PORT',
      'tasklens: OTEL_EXPORTER_PROMETHEUS_PORT="70000" is not an integer from 0 to 65535',
    ],
    [
      'unknown sampler',
      { env: { OTEL_TRACES_SAMPLER: 'ratio' } },
      'OTEL_TRACES_SAMPLER',
      'tasklens: OTEL_TRACES_SAMPLER="ratio" is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio',
    ],
    [
      'sampler ratio above 1',
      { env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' } },
      'OTEL_TRACES_SAMPLER_ARG',
      'tasklens: OTEL_TRACES_SAMPLER_ARG="1.5" is not a number from 0 to 1',
    ],
    [
      'non-numeric sampler ratio',
      { env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' } },
      'OTEL_TRACES_SAMPLER_ARG',
      'tasklens: OTEL_TRACES_SAMPLER_ARG="half" is not a number from 0 to 1',
    ],
    [
      'negative sampler ratio option',
      { sampler: 'traceidratio', samplerArg: -0.1 },
      'options.samplerArg',
      'tasklens: options.samplerArg=-0.1 is not a number from 0 to 1',
    ],
    [
      'non-numeric flush timeout',
      { env: { TASKLENS_FLUSH_TIMEOUT_MS: 'soon' } },
      'TASKLENS_FLUSH_TIMEOUT_MS',
      'tasklens: TASKLENS_FLUSH_TIMEOUT_MS="soon" is not an integer >= 1',
    ],
    [
      'unknown log level',
      { env: { OTEL_LOG_LEVEL: 'loud' } },
      'OTEL_LOG_LEVEL',
      'tasklens: OTEL_LOG_LEVEL="loud" is not one of none, error, warn, info, debug, verbose, all',
    ],
  ])('reports %s', (_case, options, setting, message) => {
    const error = configError({ env: {}, ...options });
    expect(error.name).toBe('TelemetryConfigError');
    expect(error.setting).toBe(setting);
    expect(error.message).toBe(message);
  });
});

describe('histogram buckets', () => {
  it('come from the options, else TASKLENS_*_BUCKETS, only for the histograms named', () => {
    const config = fromEnv(
      { TASKLENS_DURATION_BUCKETS: ' 0.1, 1,10 ', TASKLENS_WAIT_BUCKETS: '1,60' },
      { histogramBuckets: { wait: [0.5, 5] } },
    );
    expect(config.histogramBuckets).toEqual({ duration: [0.1, 1, 10], wait: [0.5, 5] });
  });

  it.each([
    [
      { TASKLENS_DURATION_BUCKETS: '1,0.5' },
      'TASKLENS_DURATION_BUCKETS="1,0.5" is not a list of increasing positive numbers of seconds',
    ],
    [
      { TASKLENS_WAIT_BUCKETS: '0,1' },
      'TASKLENS_WAIT_BUCKETS="0,1" is not a list of increasing positive numbers of seconds',
    ],
    [
      { TASKLENS_PIPELINE_BUCKETS: '1,,2' },
      'TASKLENS_PIPELINE_BUCKETS="1,,2" is not a list of increasing positive numbers of seconds',
    ],
    [
      { TASKLENS_DURATION_BUCKETS: '1s,2s' },
      'TASKLENS_DURATION_BUCKETS="1s,2s" is not a list of increasing positive numbers of seconds',
    ],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(configError({ env }).message).toBe(`tasklens: ${message}`);
  });

  it('refuses an option that is not a short increasing list', () => {
    const many = Array.from({ length: 65 }, (_unused, index) => index + 1);
    expect(configError({ env: {}, histogramBuckets: { duration: many } }).message).toContain(
      'is not a list of 1 to 64 bucket boundaries',
    );
    expect(configError({ env: {}, histogramBuckets: { pipeline: [] } }).message).toContain(
      'options.histogramBuckets.pipeline=[]',
    );
  });
});
