/*
 * deploy/jaeger/cassandra.yaml against the Jaeger binary the stack runs (deploy/versions.json).
 * No Cassandra can run on the machines the tests run on, so this proves what can be proved without
 * one: the config parses and passes Jaeger's own validation (also with the compose profile's
 * environment), and a Jaeger started with it gets through configuration and fails only where it
 * opens a session with Cassandra. Broken copies show that each check can fail. That structural
 * checks of the compose profile pass is compose-scalable-traces.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// Compose files are YAML 1.1; js-yaml reads them as Compose does.
import { load } from 'js-yaml';

import { JAEGER, REPO_DIR, runTool } from './run-tool.js';

const CONFIG = 'deploy/jaeger/cassandra.yaml';
const configText = readFileSync(join(REPO_DIR, CONFIG), 'utf8');

/** A port where no Cassandra listens; the Jaeger ports follow in the same test range. */
const ABSENT_CASSANDRA_PORT = 22899;
const JAEGER_PORTS = {
  JAEGER_OTLP_GRPC_ENDPOINT: '127.0.0.1:22880',
  JAEGER_OTLP_HTTP_ENDPOINT: '127.0.0.1:22881',
  JAEGER_QUERY_HTTP_ENDPOINT: '127.0.0.1:22882',
  JAEGER_QUERY_GRPC_ENDPOINT: '127.0.0.1:22883',
  JAEGER_HEALTH_ENDPOINT: '127.0.0.1:22884',
  JAEGER_TELEMETRY_HOST: '127.0.0.1',
  JAEGER_TELEMETRY_PORT: '22885',
};
const ABSENT_CASSANDRA = {
  ...JAEGER_PORTS,
  JAEGER_CASSANDRA_SERVERS: '127.0.0.1',
  JAEGER_CASSANDRA_PORT: String(ABSENT_CASSANDRA_PORT),
};

/** What Jaeger prints when it could not open a session with Cassandra, after the config passed. */
const CASSANDRA_UNREACHABLE = new RegExp(
  "failed to start extensions: failed to initialize storage 'cassandra_store': gocql: " +
    `unable to create session: .*dial tcp 127\\.0\\.0\\.1:${ABSENT_CASSANDRA_PORT}: ` +
    'connect: connection refused',
);
/** What the collector framework prints for a config it cannot decode or that fails validation. */
const CONFIG_ERROR = /failed to get config|invalid keys|cannot unmarshal|should at least be/;

/** The environment the compose profile gives Jaeger on Cassandra. */
function composeEnvironment(): Record<string, string> {
  const compose = load(readFileSync(join(REPO_DIR, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  const environment = compose.services['jaeger-cassandra']?.environment;
  if (environment === undefined) {
    throw new Error('docker-compose.yml has no jaeger-cassandra service with an environment');
  }
  return environment;
}

/** Writes a copy of the config with `from` replaced by `to` and returns its path. */
function brokenCopy(from: string | RegExp, to: string): string {
  const broken = configText.replace(from, to);
  expect(broken, `the config has no ${String(from)} to break`).not.toBe(configText);
  const path = join(mkdtempSync(join(tmpdir(), 'tasklens-jaeger-cassandra-')), 'cassandra.yaml');
  writeFileSync(path, broken);
  return path;
}

/**
 * The Cassandra part of the config with its `${env:NAME:-default}` placeholders resolved as the
 * collector framework's env provider does: a placeholder that is a whole value takes the YAML type
 * of what replaces it (`3` a number, `[a, b]` a list, `cassandra:9042` a string). Jaeger 2.12's own
 * `print-config` cannot show it: it panics on every config (a nil dereference in
 * otelcol.unmarshal, feature gate on or off); `jaeger validate` above checks that Jaeger accepts
 * the same values.
 */
function resolvedCassandra(env: Record<string, string>): Record<string, unknown> {
  const text = configText.replace(
    /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_placeholder, name: string, fallback: string | undefined) => env[name] ?? fallback ?? '',
  );
  const config = load(text) as {
    extensions: { jaeger_storage: { backends: { cassandra_store: { cassandra: unknown } } } };
  };
  return config.extensions.jaeger_storage.backends.cassandra_store.cassandra as Record<
    string,
    unknown
  >;
}

async function nothingListensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('Jaeger on Cassandra (deploy/jaeger/cassandra.yaml)', () => {
  it('passes jaeger validate with its defaults, the compose environment and a list of servers', () => {
    for (const env of [
      {},
      composeEnvironment(),
      { JAEGER_CASSANDRA_SERVERS: '[cassandra-1:9042, cassandra-2:9042, 10.0.0.3]' },
    ]) {
      const result = runTool(JAEGER, ['validate', '--config', CONFIG], env);
      expect(result.status, `${JSON.stringify(env)}\n${result.output}`).toBe(0);
    }
  });

  it('resolves to the documented schema, retention and connection settings', () => {
    expect(resolvedCassandra({})).toMatchObject({
      schema: {
        keyspace: 'tasklens_traces',
        create: true,
        replication_factor: 1,
        trace_ttl: '168h',
        dependencies_ttl: '168h',
        compaction_window: '4h',
      },
      connection: { servers: ['127.0.0.1'], port: 9042, tls: { insecure: true } },
      query: { consistency: 'LOCAL_QUORUM' },
    });
    const production = resolvedCassandra({
      ...composeEnvironment(),
      JAEGER_CASSANDRA_REPLICATION_FACTOR: '3',
      JAEGER_SPAN_TTL: '720h',
      JAEGER_CASSANDRA_COMPACTION_WINDOW: '24h',
    });
    expect(production).toMatchObject({
      schema: {
        replication_factor: 3,
        trace_ttl: '720h',
        dependencies_ttl: '720h',
        compaction_window: '24h',
      },
    });
    // Before decoding one server is a string, and Jaeger decodes it into a list of one (the start
    // test below connects to such a server).
    expect((production.connection as { servers: unknown }).servers).toBe('cassandra:9042');
  });

  it('started with no Cassandra, gets past its config and fails only at connecting to Cassandra', async () => {
    expect(
      await nothingListensOn(ABSENT_CASSANDRA_PORT),
      `something listens on 127.0.0.1:${ABSENT_CASSANDRA_PORT}, which this test needs closed`,
    ).toBe(true);
    const result = runTool(JAEGER, ['--config', CONFIG], ABSENT_CASSANDRA);
    // Exited on its own (a timeout would leave status null), with the session error, no config one.
    expect(result.status, result.output).toBe(1);
    expect(result.output).toMatch(CASSANDRA_UNREACHABLE);
    expect(result.output).not.toMatch(CONFIG_ERROR);
  });

  it('rejects a broken copy: a misspelled key fails validation and the start, before any connection', () => {
    const misspelled = brokenCopy('replication_factor:', 'replication_factr:');
    const validate = runTool(JAEGER, ['validate', '--config', misspelled]);
    expect(validate.status).toBe(1);
    expect(validate.output).toContain("'cassandra.schema' has invalid keys: replication_factr");

    const start = runTool(JAEGER, ['--config', misspelled], ABSENT_CASSANDRA);
    expect(start.status).toBe(1);
    expect(start.output).toMatch(CONFIG_ERROR);
    expect(start.output).not.toMatch(CASSANDRA_UNREACHABLE);
    expect(start.output).not.toContain('gocql');
  });

  it('rejects a broken copy: a compaction window under a minute fails validation', () => {
    const tooShort = brokenCopy(/compaction_window: \S+/, 'compaction_window: 30s');
    const result = runTool(JAEGER, ['validate', '--config', tooShort]);
    expect(result.status).toBe(1);
    expect(result.output).toContain('compaction_window should at least be 1 minute');
  });

  it('rejects a single-label server name without a port, as the compose file warns', () => {
    const result = runTool(JAEGER, ['validate', '--config', CONFIG], {
      JAEGER_CASSANDRA_SERVERS: 'cassandra',
    });
    expect(result.status).toBe(1);
    expect(result.output).toContain('cassandra does not validate as url');
  });
});
