import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// Compose files are YAML 1.1; js-yaml reads them as Compose does, anchors included.
import { load } from 'js-yaml';

import { expectedBinaryPaths, expectedPromtoolPath, SETUP_HINT } from '../src/binaries.js';
import { PROMETHEUS_FEATURE_FLAGS } from '../src/components.js';

// deploy/versions.json is the one source of truth; the files that cannot read it must agree.
const repoDir = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(repoDir, path), 'utf8');

interface Versions {
  collector: { version: string; image: string; manifest: string };
  jaeger: { version: string; image: string };
  prometheus: { version: string; image: string };
  thanos: { version: string; image: string };
  alertmanager: { version: string; image: string };
  grafana: { image: string };
  cassandra: { version: string; image: string };
  redis: { image: string };
  demo: { baseImage: string; dockerfile: string };
}

/** The parts of a compose service these tests look at. */
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
const compose = load(read('docker-compose.yml')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const versions = JSON.parse(read('deploy/versions.json')) as Versions;

describe('deploy versions', () => {
  it('docker-compose.yml pins exactly the images of deploy/versions.json', () => {
    const images = [...read('docker-compose.yml').matchAll(/^\s+image:\s*(\S+)\s*$/gm)].map(
      (match) => match[1],
    );
    expect(images).toEqual(
      expect.arrayContaining([
        versions.collector.image,
        versions.prometheus.image,
        versions.jaeger.image,
        versions.alertmanager.image,
        versions.grafana.image,
        versions.cassandra.image,
        versions.redis.image,
        versions.thanos.image,
      ]),
    );
    expect(versions.thanos.image).toBe(`quay.io/thanos/thanos:v${versions.thanos.version}`);
    expect(versions.alertmanager.image).toBe(`prom/alertmanager:v${versions.alertmanager.version}`);
    expect(versions.collector.image).toBe(
      `otel/opentelemetry-collector-contrib:${versions.collector.version}`,
    );
    expect(versions.prometheus.image).toBe(`prom/prometheus:v${versions.prometheus.version}`);
    expect(versions.jaeger.image).toBe(`jaegertracing/jaeger:${versions.jaeger.version}`);
  });

  it('the builder manifest uses one core/contrib release, the one compose pins', () => {
    const manifest = read(versions.collector.manifest);
    const modules = [...manifest.matchAll(/gomod:\s*(\S+)\s+(v\S+)/g)].map((match) => ({
      module: match[1],
      version: match[2],
    }));
    expect(modules.length).toBeGreaterThan(5);
    for (const { module, version } of modules) {
      // Stable core modules (confmap providers) carry 1.x versions released with the same 0.x.
      if (!/^v1\./.test(version)) {
        expect(`${module} ${version}`).toBe(`${module} v${versions.collector.version}`);
      }
    }
    const stable = new Set(modules.filter((m) => /^v1\./.test(m.version)).map((m) => m.version));
    expect(stable.size).toBeLessThanOrEqual(1);
  });

  it("Debian's Alertmanager, which the native stack runs, is the version compose pins", async () => {
    const { alertmanager } = await expectedBinaryPaths(repoDir);
    const result = spawnSync(alertmanager, ['--version'], { encoding: 'utf8' });
    expect(result.error, `${alertmanager}: ${SETUP_HINT}`).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toContain(
      `version ${versions.alertmanager.version}`,
    );
  });

  it('the Prometheus and promtool the native stack runs are the version compose pins', async () => {
    const binaries = [
      (await expectedBinaryPaths(repoDir)).prometheus,
      await expectedPromtoolPath(repoDir),
    ];
    for (const binary of binaries) {
      const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
      expect(result.error, `${binary}: ${SETUP_HINT}`).toBeUndefined();
      expect(`${result.stdout}${result.stderr}`).toContain(
        `version ${versions.prometheus.version}`,
      );
    }
  });

  it('the Thanos the metrics store runs natively is the version compose pins', async () => {
    const { thanos } = await expectedBinaryPaths(repoDir);
    const result = spawnSync(thanos, ['--version'], { encoding: 'utf8' });
    expect(result.error, `${thanos}: ${SETUP_HINT}`).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toContain(`version ${versions.thanos.version}`);
  });

  it('demo/Dockerfile builds from the pinned Node image', () => {
    const from = [...read(versions.demo.dockerfile).matchAll(/^FROM\s+(\S+)/gm)].map(
      (match) => match[1],
    );
    expect(from).toEqual([versions.demo.baseImage]);
  });
});

describe('docker-compose.yml', () => {
  it('mounts only files and folders that exist in the repository', () => {
    const sources = Object.values(compose.services)
      .flatMap((entry) => entry.volumes ?? [])
      .map((volume) => volume.split(':')[0] ?? '')
      .filter((source) => source.startsWith('./'));
    expect(sources.length).toBeGreaterThan(4);
    for (const source of sources) {
      expect(existsSync(join(repoDir, source)), source).toBe(true);
    }
    for (const entry of Object.values(compose.services)) {
      for (const volume of entry.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (!source.startsWith('./') && !source.startsWith('/')) {
          expect(Object.keys(compose.volumes), `named volume ${source}`).toContain(source);
        }
      }
    }
  });

  it("keeps Jaeger's Badger data and the collector's persistent queues in named volumes", () => {
    const jaeger = service('jaeger');
    const collector = service('otel-collector');
    const mountedAt = (entry: ComposeService, path: string | undefined): string | undefined =>
      (entry.volumes ?? [])
        .map((volume) => volume.split(':'))
        .find(([, target]) => path !== undefined && path.startsWith(target ?? '\0'))?.[0];
    for (const path of [
      jaeger.environment?.JAEGER_BADGER_KEYS_DIR,
      jaeger.environment?.JAEGER_BADGER_VALUES_DIR,
    ]) {
      expect(mountedAt(jaeger, path), `Jaeger's ${path}`).toBe('jaeger-data');
    }
    expect(
      mountedAt(collector, collector.environment?.COLLECTOR_FILE_STORAGE_DIR),
      'the collector file_storage directory',
    ).toBe('collector-storage');
    // Both images run as uid 10001; a new named volume belongs to root until chowned.
    const permissions = service('storage-permissions');
    expect(permissions.volumes).toEqual(
      expect.arrayContaining([
        'collector-storage:/var/lib/otelcol/file_storage',
        'jaeger-data:/var/lib/jaeger',
      ]),
    );
    for (const entry of [jaeger, collector]) {
      expect(entry.depends_on).toMatchObject({
        'storage-permissions': { condition: 'service_completed_successfully' },
      });
    }
  });

  it('runs Prometheus with the flags of the native stack', () => {
    expect(service('prometheus').command).toEqual(
      expect.arrayContaining([...PROMETHEUS_FEATURE_FLAGS]),
    );
    expect(service('otel-collector').environment?.PROMETHEUS_OTLP_ENDPOINT).toBe(
      'http://prometheus:9090/api/v1/otlp',
    );
  });

  it('runs Alertmanager with the repository config where prometheus.yml sends alerts', () => {
    const alertmanager = service('alertmanager');
    expect(alertmanager.command).toEqual(
      expect.arrayContaining([
        '--config.file=/etc/alertmanager/alertmanager.yml',
        '--cluster.listen-address=',
      ]),
    );
    expect(alertmanager.volumes).toContain('./deploy/alertmanager:/etc/alertmanager:ro');
    expect(alertmanager.ports).toEqual(['127.0.0.1:${ALERTMANAGER_PORT:-9093}:9093']);
    const prometheusConfig = load(read('deploy/prometheus/prometheus.yml')) as {
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    expect(
      prometheusConfig.alerting.alertmanagers.flatMap((entry) =>
        entry.static_configs.flatMap((config) => config.targets),
      ),
    ).toEqual(['alertmanager:9093']);
  });

  it('gives Grafana the provisioned dashboards at the folder its provider reads', () => {
    const provider = read('deploy/grafana/provisioning/dashboards/dashboards.yaml');
    const path = /path:\s*(\S+)/.exec(provider)?.[1];
    expect(path).toBe('/var/lib/grafana/dashboards');
    expect(service('grafana').volumes).toContain(`./deploy/grafana/dashboards:${path}:ro`);
    expect(existsSync(join(repoDir, 'deploy/grafana/dashboards/tasklens.json'))).toBe(true);
  });

  it('runs the demo worker and producer from one image built by demo/Dockerfile', () => {
    const worker = service('demo-worker');
    const producer = service('demo-producer');
    for (const [entry, script] of [
      [worker, 'demo/worker.js'],
      [producer, 'demo/producer.js'],
    ] as const) {
      expect(entry.build).toEqual({ context: '.', dockerfile: versions.demo.dockerfile });
      expect(entry.image).toBe(worker.image);
      expect(entry.command).toEqual(['node', script]);
      expect(existsSync(join(repoDir, script)), script).toBe(true);
      expect(entry.environment).toEqual({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
        REDIS_HOST: 'redis',
      });
    }
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['otel-collector', 'redis']),
    );
  });
});
