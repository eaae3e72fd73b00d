/*
 * The scalable-traces profile of docker-compose.yml (Jaeger on Cassandra), checked as data: no
 * Docker daemon and no `docker compose` here. That the Jaeger binary accepts the config with this
 * profile's environment is jaeger-cassandra.integration.test.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compose,
  composeService as service,
  envDefaults as envReferences,
  readRepoFile as read,
} from './compose-file.js';
import { REPO_DIR } from './run-tool.js';

const versions = JSON.parse(read('deploy/versions.json')) as {
  jaeger: { image: string };
  cassandra: { version: string; image: string };
};
const PROFILE = 'scalable-traces';

describe('docker-compose.yml profile scalable-traces', () => {
  it('holds Cassandra and a Jaeger on it, nothing else, with the images of deploy/versions.json', () => {
    const inProfile = Object.entries(compose.services)
      .filter(([, entry]) => entry.profiles?.includes(PROFILE))
      .map(([name]) => name);
    expect(inProfile.sort()).toEqual(['cassandra', 'jaeger-cassandra']);
    expect(service('cassandra').image).toBe(versions.cassandra.image);
    expect(versions.cassandra.image).toBe(`cassandra:${versions.cassandra.version}`);
    expect(service('jaeger-cassandra').image).toBe(versions.jaeger.image);
  });

  it('runs Jaeger with deploy/jaeger/cassandra.yaml once Cassandra answers CQL', () => {
    const jaeger = service('jaeger-cassandra');
    const configPath = /^--config=(.+)$/.exec(jaeger.command?.[0] ?? '')?.[1];
    expect(jaeger.volumes).toContain(`./deploy/jaeger/cassandra.yaml:${configPath}:ro`);
    expect(existsSync(join(REPO_DIR, 'deploy/jaeger/cassandra.yaml'))).toBe(true);
    expect(jaeger.depends_on).toEqual({ cassandra: { condition: 'service_healthy' } });
    expect(service('cassandra').healthcheck?.test).toEqual(
      expect.arrayContaining(['cqlsh', 'describe keyspaces']),
    );
  });

  it("sets only variables the config reads, points it at the cassandra service's CQL port", () => {
    const references = envReferences('deploy/jaeger/cassandra.yaml');
    const environment = service('jaeger-cassandra').environment ?? {};
    for (const name of Object.keys(environment)) {
      expect([...references.keys()], `${name} is not read by cassandra.yaml`).toContain(name);
    }
    // Jaeger rejects a single-label host name without a port ("does not validate as url").
    expect(environment.JAEGER_CASSANDRA_SERVERS).toBe('cassandra:9042');
    expect(environment.JAEGER_OTLP_GRPC_ENDPOINT).toBe('0.0.0.0:4317');
  });

  it('keeps the receivers, ports and their defaults of the Badger config', () => {
    const badger = envReferences('deploy/jaeger/config.yaml');
    const cassandra = envReferences('deploy/jaeger/cassandra.yaml');
    const shared = [...badger.keys()].filter((name) => !name.startsWith('JAEGER_BADGER_'));
    expect(shared).toEqual(
      expect.arrayContaining(['JAEGER_OTLP_GRPC_ENDPOINT', 'JAEGER_QUERY_HTTP_ENDPOINT']),
    );
    for (const name of shared) {
      expect(cassandra.get(name), name).toBe(badger.get(name));
    }
  });

  it('keeps Cassandra data in a named volume and publishes ports on loopback, none twice', () => {
    expect(service('cassandra').volumes).toEqual(['cassandra-data:/var/lib/cassandra']);
    expect(Object.keys(compose.volumes)).toContain('cassandra-data');
    const published = Object.values(compose.services).flatMap((entry) => entry.ports ?? []);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:/);
    // '127.0.0.1:${VARIABLE:-default}:container': the default host ports must not clash.
    const hostPorts = published.map((port) => /:-(\d+)\}:\d+$/.exec(port)?.[1] ?? port);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(service('jaeger-cassandra').ports).toEqual([
      '127.0.0.1:${JAEGER_CASSANDRA_QUERY_PORT:-16687}:16686',
    ]);
  });

  it("lets the collector's traces go to the Cassandra Jaeger, by default to the Badger one", () => {
    expect(service('otel-collector').environment?.JAEGER_OTLP_GRPC_ENDPOINT).toBe(
      '${JAEGER_OTLP_HOST:-jaeger}:4317',
    );
    for (const name of ['jaeger', 'jaeger-cassandra'])
      expect(compose.services).toHaveProperty(name);
  });
});
