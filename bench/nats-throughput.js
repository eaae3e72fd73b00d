// Consumer throughput and CPU of a JetStream pull consumer (consume(), max_messages 50, explicit
// ack), six variants alternating in one run:
//
//   bare                  the client alone, no SDK
//   tasklens, no SDK      @tasklens/nats processTask, no SDK registered
//   tasklens, SDK         the same on the benchmark SDK (spans and every metric)
//   hand-rolled span, SDK one CONSUMER span per message and no metric: the context extracted from
//                         the message headers, the handler (the ack) run in the span's context;
//                         there is no OTel contrib instrumentation of @nats-io/jetstream 3 to
//                         compare with, and this is the least per-message tracing costs
//   hand-rolled span, tasklens's attributes, SDK
//                         the same span carrying the twelve attributes tasklens's span carries
//                         (ten at its start, settlement and outcome at its end): what the richer
//                         span alone costs the SDK, apart from tasklens's own work
//   tasklens attempt without the adapter, SDK
//                         core's attempt (startTaskAttempt with the options processTask passes,
//                         the ack in its context, succeed) over the carrier copied out of the
//                         headers as the hand-rolled spans copy it: core's share of tasklens's
//                         per-message work, apart from the NATS adapter's (header reading,
//                         settlement watching, the settle timeout)
//
// Each sample fills a fresh stream with MESSAGES no-op messages carrying the headers an
// instrumented producer sends (the same for every variant), then times the consume phase:
// consume() → the last ack. It records messages/s and this process's CPU time per message over
// that phase (process.cpuUsage: the server's share of the two cores is not in it). Medians,
// spreads, per-round ratios, then targets T3 and T5. Run after `npx tsc --build`:
// `node bench/nats-throughput.js`.
import { pathToFileURL } from 'node:url';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { processTask } from '@tasklens/nats';
import { baselineAdapter } from './support/baseline.js';
import { registerBenchSdk } from './support/bench-sdk.js';
import {
  BARE,
  NO_SDK,
  TASKLENS,
  HAND_ROLLED,
  reportBrokerRounds,
} from './support/broker-report.js';
import { formatRatios } from './support/report.js';
import { runRounds, startClock } from './support/rounds.js';

const SERVER = '127.0.0.1:4222';
// About 0.25 s of consuming per sample: with 5 000 messages (60 ms) the consumer's start-up and
// the pull batches made the per-round ratios spread about twice as wide for the same run time.
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 14);
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

/** The carrier fields of a message's headers, copied as a hand-written consumer would. */
function headerCarrier(msg) {
  const carrier = {};
  for (const [key, values] of msg.headers ?? []) carrier[key] = values[0];
  return carrier;
}

/**
 * A hand-rolled CONSUMER span per message: the context extracted from the headers, the span with
 * `startAttributes(msg, carrier)`, the handler (the ack) run in its context, `endAttributes` set
 * before it ends.
 */
function handRolled(startAttributes, endAttributes) {
  return (msg) => {
    const carrier = headerCarrier(msg);
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    const span = tracer.startSpan(
      `process ${msg.info.stream}`,
      { kind: SpanKind.CONSUMER, attributes: startAttributes(msg, carrier) },
      parent,
    );
    return context
      .with(trace.setSpan(parent, span), async () => msg.ack())
      .finally(() => {
        if (endAttributes !== undefined) span.setAttributes(endAttributes);
        span.end();
      });
  };
}

const handRolledSpan = handRolled((msg) => ({
  'messaging.system': 'nats',
  'messaging.destination.name': msg.subject,
}));

/** The hand-rolled span with the attributes tasklens's CONSUMER span of the same message has. */
const handRolledRichSpan = handRolled(
  (msg, carrier) => {
    const info = msg.info;
    const id = String(info.streamSequence);
    return {
      'messaging.consumer.group.name': info.consumer,
      'task.name': info.stream,
      'task.attempt': info.deliveryCount,
      'task.id': id,
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.message.id': id,
      'messaging.destination.name': msg.subject,
      'task.wait.duration':
        Math.max(0, Date.now() - Number(carrier['tasklens-enqueued-at'])) / 1000,
    };
  },
  { 'task.settlement': 'ack', 'task.outcome': 'success' },
);

const HAND_ROLLED_RICH = "hand-rolled span, tasklens's attributes, SDK";

/** tasklens's attempt for a message without the adapter around it (see the header). */
function attemptAlone(msg) {
  const info = msg.info;
  const attempt = startTaskAttempt({
    name: info.stream,
    queue: info.stream,
    destination: msg.subject,
    system: 'nats',
    id: String(info.streamSequence),
    attempt: info.deliveryCount,
    carrier: headerCarrier(msg),
    attributes: { 'messaging.consumer.group.name': info.consumer },
  });
  return context
    .with(attempt.context, async () => msg.ack())
    .finally(() => {
      attempt.span.setAttribute('task.settlement', 'ack');
      attempt.succeed();
    });
}

const ATTEMPT_ALONE = 'tasklens attempt without the adapter, SDK';

const variants = {
  [BARE]: {
    sdk: false,
    handle: (msg) => msg.ack(),
  },
  [NO_SDK]: {
    sdk: false,
    handle: (msg) => processTask(msg, (delivered) => delivered.ack()),
  },
  [TASKLENS]: {
    sdk: true,
    handle: (msg) => processTask(msg, (delivered) => delivered.ack()),
  },
  [HAND_ROLLED]: {
    sdk: true,
    handle: handRolledSpan,
  },
  [HAND_ROLLED_RICH]: {
    sdk: true,
    handle: handRolledRichSpan,
  },
  [ATTEMPT_ALONE]: {
    sdk: true,
    handle: attemptAlone,
  },
};
const baseline = await baselineAdapter('nats');
if (baseline !== undefined) {
  variants[baseline.name] = {
    sdk: true,
    handle: (msg) => baseline.adapter.processTask(msg, (delivered) => delivered.ack()),
  };
}

/** One sample: messages/s and CPU µs per message over the consume phase. */
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
    const stopSdk = variant.sdk ? registerBenchSdk() : undefined;
    try {
      const consumer = await js.consumers.get(stream, 'worker');
      const stopClock = startClock();
      const messages = await consumer.consume({ max_messages: 50 });
      let processed = 0;
      for await (const msg of messages) {
        await variant.handle(msg);
        if (++processed === MESSAGES) break;
      }
      const { seconds, cpuMicros } = stopClock();
      await nc.flush();
      return { rate: MESSAGES / seconds, cpu: cpuMicros / MESSAGES };
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
  let samples;
  const names = Object.keys(variants);
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    let index = 0;
    samples = await runRounds(names, REPETITIONS, (name) =>
      sample(nc, jsm, js, variants[name], index++),
    );
  } finally {
    await nc.drain();
  }
  const { rates, cpus, targets, versus, cpuVersus } = reportBrokerRounds({
    broker: 'NATS',
    unit: 'msg',
    samples,
    throughputTitle:
      `NATS JetStream consume(): ${MESSAGES} no-op messages, max_messages 50, explicit ack, ` +
      `${REPETITIONS} rounds`,
    cpuTitle:
      'NATS JetStream consumer: CPU of this process per message over the consume phase (same samples)',
  });
  console.log(
    `\ntasklens vs the hand-rolled span with its attributes: throughput ` +
      `${formatRatios(versus(TASKLENS, HAND_ROLLED_RICH))}, CPU/msg ` +
      `${cpuVersus(TASKLENS, HAND_ROLLED_RICH)}; the richer span vs the plain one: CPU/msg ` +
      `${cpuVersus(HAND_ROLLED_RICH, HAND_ROLLED)}`,
  );
  console.log(
    `tasklens vs its attempt without the adapter (the adapter's share): CPU/msg ` +
      `${cpuVersus(TASKLENS, ATTEMPT_ALONE)}; the attempt without the adapter vs the span with ` +
      `the same attributes (core's share): CPU/msg ${cpuVersus(ATTEMPT_ALONE, HAND_ROLLED_RICH)}`,
  );
  if (baseline !== undefined) {
    console.log(
      `tasklens vs ${baseline.name}: throughput ${formatRatios(versus(TASKLENS, baseline.name))}, ` +
        `CPU/msg ${cpuVersus(TASKLENS, baseline.name)}`,
    );
  }
  return { rates, cpus, targets };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
