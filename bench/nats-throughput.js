// Consumer throughput of a JetStream pull consumer (consume(), max_messages 50, explicit ack)
// over 10k pre-filled no-op messages: bare client vs @tasklens/nats processTask, with and
// without an SDK registered, and a hand-rolled OTel consumer span (the least any per-message
// tracing costs: extract, one span, run in its context; there is no OTel contrib instrumentation
// for @nats-io/jetstream 3 to compare with). Run after `npx tsc --build`:
// `node bench/nats-throughput.js`.
import { pathToFileURL } from 'node:url';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { processTask } from '@tasklens/nats';
import { startBenchSdk } from '@tasklens/test-utils';
import { printTable } from './support/report.js';

const SERVER = '127.0.0.1:4222';
const MESSAGES = 10_000;
const REPETITIONS = 9;
const PUBLISH_WINDOW = 500;
const RUN = `${process.pid}_${Date.now().toString(36)}`;

/** Every message carries what an instrumented producer adds, for all variants alike. */
function producerHeaders() {
  const h = headers();
  h.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  h.set('tasklens-enqueued-at', String(Date.now()));
  return h;
}

async function fill(js, subject) {
  const payload = new TextEncoder().encode('{"noop":true}');
  for (let sent = 0; sent < MESSAGES; sent += PUBLISH_WINDOW) {
    const window = [];
    for (let i = sent; i < Math.min(MESSAGES, sent + PUBLISH_WINDOW); i++) {
      window.push(js.publish(subject, payload, { headers: producerHeaders() }));
    }
    await Promise.all(window);
  }
}

const tracer = trace.getTracer('bench-hand-rolled');

function handRolledSpan(msg) {
  const carrier = {};
  for (const [key, values] of msg.headers ?? []) carrier[key] = values[0];
  const parent = propagation.extract(context.active(), carrier);
  const span = tracer.startSpan(
    `process ${msg.info.stream}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject },
    },
    parent,
  );
  return context.with(trace.setSpan(parent, span), async () => msg.ack()).finally(() => span.end());
}

const variants = {
  bare: {
    sdk: false,
    handle: (msg) => msg.ack(),
  },
  'tasklens (no SDK)': {
    sdk: false,
    handle: (msg) => processTask(msg, (delivered) => delivered.ack()),
  },
  tasklens: {
    sdk: true,
    handle: (msg) => processTask(msg, (delivered) => delivered.ack()),
  },
  'hand-rolled OTel span': {
    sdk: true,
    handle: handRolledSpan,
  },
};

async function sample(nc, jsm, js, variant, index) {
  const stream = `BENCH_${RUN}_${index}`;
  const subject = `bench.${RUN}.${index}.orders`;
  await jsm.streams.add({ name: stream, subjects: [subject] });
  try {
    await jsm.consumers.add(stream, {
      durable_name: 'worker',
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 1000,
    });
    await fill(js, subject);
    const stopSdk = variant.sdk ? startBenchSdk() : undefined;
    try {
      const consumer = await js.consumers.get(stream, 'worker');
      const started = performance.now();
      const messages = await consumer.consume({ max_messages: 50 });
      let processed = 0;
      for await (const msg of messages) {
        await variant.handle(msg);
        if (++processed === MESSAGES) break;
      }
      const seconds = (performance.now() - started) / 1000;
      await nc.flush();
      return MESSAGES / seconds;
    } finally {
      await stopSdk?.();
    }
  } finally {
    await jsm.streams.delete(stream);
  }
}

export async function main() {
  let nc;
  try {
    nc = await connect({ servers: SERVER, reconnect: false });
  } catch (error) {
    throw new Error(
      `NATS is not reachable at ${SERVER} (${error.message}). Start it with: ` +
        'nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &',
    );
  }
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const names = Object.keys(variants);
    const results = names.map((name) => ({ name, samples: [] }));
    let index = 0;
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      const order = repetition % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const throughput = await sample(nc, jsm, js, variants[name], index++);
        results.find((result) => result.name === name).samples.push(throughput);
      }
    }
    printTable(
      `NATS JetStream consume(), ${MESSAGES} no-op messages, max_messages 50, explicit ack, ` +
        `${REPETITIONS} repetitions`,
      'jobs/s',
      results,
      { baseline: 'bare', higherIsBetter: true },
    );
    return results;
  } finally {
    await nc.drain();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
