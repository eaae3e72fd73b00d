/*
 * Remote write in docker-compose.yml, checked as data (no Docker daemon here): the collector
 * mounts deploy/collector/remote-write.yaml and sets every variable it reads, Prometheus takes
 * remote write, and profile remote-write's VictoriaMetrics is the version the tests run natively
 * (packages/cli/test/remote-write-end-to-end.integration.test.ts runs the same files).
 */
import { describe, expect, it } from 'vitest';
import { composeService as service, envDefaults, readRepoFile as read } from './compose-file.js';

const versions = JSON.parse(read('deploy/versions.json')) as {
  victoriametrics: { version: string; image: string };
};

describe('docker-compose.yml with remote write', () => {
  it('gives the collector the remote-write file and every variable it reads', () => {
    const collector = service('otel-collector');
    expect(collector.volumes).toContain(
      './deploy/collector/remote-write.yaml:/etc/tasklens/remote-write.yaml:ro',
    );
    const defaults = envDefaults('deploy/collector/remote-write.yaml');
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
