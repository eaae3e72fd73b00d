/*
 * The real NATS JetStream server on 127.0.0.1 for integration tests: connection with a how-to-start
 * message when it is missing, unique stream names removed after a file's tests, and the producer
 * child process.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerConfig, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';

export const NATS_SERVER = process.env.NATS_SERVER ?? '127.0.0.1:4222';
export const START_NATS = 'nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &';

/** Connects to NATS with JetStream, or fails saying how to start the server. */
export async function connectJetStream(
  server: string = NATS_SERVER,
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: server, reconnect: false, timeout: 2000 });
  } catch (error) {
    throw new Error(
      `NATS is not reachable at ${server} (${String(error)}). Start it with: ${START_NATS}`,
    );
  }
  try {
    return { nc, jsm: await jetstreamManager(nc) };
  } catch (error) {
    await nc.close();
    throw new Error(
      `NATS at ${server} has no JetStream (${String(error)}). Start it with: ${START_NATS}`,
    );
  }
}

let sequence = 0;

/** A stream and subject prefix no other test or run uses. */
function uniqueStream(label: string): { stream: string; subjects: string } {
  const id = `${label}_${process.pid}_${Date.now().toString(36)}_${sequence++}`;
  return { stream: id.toUpperCase(), subjects: `tl.${id}` };
}

/** Creates a stream with one durable explicit-ack pull consumer `worker`. */
async function createStreamWithConsumer(
  jsm: JetStreamManager,
  stream: string,
  subjects: string,
  consumer: Partial<ConsumerConfig> = {},
): Promise<void> {
  await jsm.streams.add({ name: stream, subjects: [`${subjects}.>`] });
  await jsm.consumers.add(stream, {
    durable_name: 'worker',
    ack_policy: AckPolicy.Explicit,
    ...consumer,
  });
}

/** One test file's JetStream: its connection and clients, and the streams its tests made. */
export interface JetStreamBroker {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly js: JetStreamClient;
  /** A stream no other test uses, with the consumer `worker` (see createStreamWithConsumer). */
  newStream(
    label: string,
    consumer?: Partial<ConsumerConfig>,
  ): Promise<{ stream: string; subjects: string }>;
}

/**
 * Connects before the calling file's tests (failing them with how to start NATS when it is not
 * there) and, after them, deletes the streams made with `newStream` and closes the connection.
 */
export function useJetStreamBroker(): JetStreamBroker {
  let clients: { nc: NatsConnection; jsm: JetStreamManager; js: JetStreamClient } | undefined;
  const streams: string[] = [];
  beforeAll(async () => {
    const { nc, jsm } = await connectJetStream();
    clients = { nc, jsm, js: jetstream(nc) };
  });
  afterAll(async () => {
    if (clients === undefined) return;
    for (const stream of streams) await clients.jsm.streams.delete(stream).catch(() => false);
    await clients.nc.close();
  });
  const connected = () => {
    if (clients === undefined) throw new Error('JetStream is used before the connection is made');
    return clients;
  };
  return {
    get nc() {
      return connected().nc;
    },
    get jsm() {
      return connected().jsm;
    },
    get js() {
      return connected().js;
    },
    async newStream(label, consumer = {}) {
      const names = uniqueStream(label);
      streams.push(names.stream);
      await createStreamWithConsumer(connected().jsm, names.stream, names.subjects, consumer);
      return names;
    },
  };
}

export interface ProducedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
}

export interface ProducerOutput {
  spans: ProducedSpan[];
  acks: { stream: string; seq: number; at: number }[];
}

export interface ProducerInput {
  subject: string;
  mode: 'instrumented' | 'publish-task' | 'plain' | 'raw-headers';
  count?: number;
  name?: string;
  queue?: string;
  msgID?: string;
  headers?: Record<string, string>;
  rawHeaders?: [string, string][];
}

const PRODUCER = fileURLToPath(new URL('../fixtures/producer.mjs', import.meta.url));

/** Runs the producer fixture in a separate Node process and returns what it printed. */
export async function produceInChildProcess(input: ProducerInput): Promise<ProducerOutput> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [PRODUCER, JSON.stringify({ server: NATS_SERVER, ...input })],
    { timeout: 30_000 },
  );
  return JSON.parse(stdout) as ProducerOutput;
}
