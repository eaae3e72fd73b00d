import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { defaultRepoDir } from '../src/stack/stack.js';

// deploy/versions.json is the one source of truth; the files that cannot read it must agree.
const repoDir = defaultRepoDir();
const read = (path: string): string => readFileSync(join(repoDir, path), 'utf8');

interface Versions {
  collector: { version: string; image: string; manifest: string };
  jaeger: { version: string; image: string };
  prometheus: { version: string; image: string };
  grafana: { image: string };
  redis: { image: string };
}
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
        versions.grafana.image,
        versions.redis.image,
      ]),
    );
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
});
