/*
 * Remote write in docker-compose.yml, checked as data (no Docker daemon here): the collector
 * mounts deploy/collector/remote-write.yaml and sets every variable it reads, Prometheus takes
 * remote write, and profile remote-write's VictoriaMetrics is the version the tests run natively
 * (packages/cli/test/remote-write-end-to-end.integration.test.ts runs the same files).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { REPO_DIR } from './run-tool.js';

interface ComposeService {
  image?: string;
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

const read = (path: string): string => readFileSync(join(REPO_DIR, path), 'utf8');
const compose = load(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const versions = JSON.parse(read('deploy/versions.json')) as {
  victoriametrics: { version: string; image: string };
};
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

describe('docker-compose.yml with remote write', () => {
  it('gives the collector the remote-write file and every variable it reads', () => {
    const collector = service('otel-collector');
    expect(collector.volumes).toContain(
      './deploy/collector/remote-write.yaml:/etc/tasklens/remote-write.yaml:ro',
    );
    const defaults = new Map(
      [...read('deploy/collector/remote-write.yaml').matchAll(/\$\{env:(\w+):-([^}]*)\}/g)].map(
        (match) => [match[1] ?? '', match[2] ?? ''],
      ),
    );
    expect([...defaults.keys()]).toContain('REMOTE_WRITE_URL');
    const environment = collector.environment ?? {};
    expect(environment.REMOTE_WRITE_URL).toBe(
      '${REMOTE_WRITE_URL:-http://prometheus:9090/api/v1/write}',
    );
    // Those without a usable default inside a container are set; the rest keep theirs.
    for (const name of ['REMOTE_WRITE_AUTHORIZATION', 'REMOTE_WRITE_TENANT']) {
      expect(environment).toHaveProperty(name);
    }
    expect(service('prometheus').command).toContain('--web.enable-remote-write-receiver');
  });

  it('runs VictoriaMetrics of deploy/versions.json in profile remote-write only', () => {
    const victoriametrics = service('victoriametrics');
    expect(victoriametrics.profiles).toEqual(['remote-write']);
    expect(victoriametrics.image).toBe(versions.victoriametrics.image);
    expect(versions.victoriametrics.image).toBe(
      `victoriametrics/victoria-metrics:v${versions.victoriametrics.version}`,
    );
  });
});
