// Consumer throughput and CPU of amqplib on RabbitMQ, four variants alternating in one run:
//
//   bare                  channel.consume + ack, no SDK
//   tasklens, no SDK      instrumentChannel, no SDK registered
//   tasklens, SDK         the same on the benchmark SDK (spans and every metric)
//   hand-rolled span, SDK one CONSUMER span per message and no metric: propagation.extract of the
//                         message headers, the handler (the ack) run in the span's context
//
// Each sample fills a fresh queue with MESSAGES no-op messages carrying the headers an
// instrumented producer sends (traceparent, enqueue time; the same for every variant), then times
// the consume phase: consume start → the last manual ack, prefetch 50. It records messages/s and
// this process's CPU time per message over that phase (process.cpuUsage: the broker's share of
// the two cores is not in it). Medians, spreads, per-round ratios, then targets T3 and T5.
// Run after `npx tsc --build`: node bench/amqplib-throughput.js
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import amqp from 'amqplib';
import { instrumentChannel } from '@tasklens/amqplib';
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

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
// About 0.4 s of consuming per sample: with 5 000 messages (0.1 s) the per-round ratios spread
// about twice as wide for the same run time.
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 15_000);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 12);
const PREFETCH = 50;

async function fill(connection, queue) {
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: false });
  const headers = {
    traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
    'tasklens-enqueued-at': String(Date.now()),
  };
  const content = Buffer.from('{}');
  for (let index = 0; index < MESSAGES; index += 1) {
    if (!channel.sendToQueue(queue, content, { headers })) {
      await new Promise((resolve) => channel.once('drain', resolve));
    }
  }
  await channel.waitForConfirms();
  await channel.close();
}

const handRolledTracer = trace.getTracer('bench-hand-rolled');

/** A consume callback with one CONSUMER span per message around `handle`; no metric. */
function handRolledSpan(queue, handle) {
  return (message) => {
    const parent = propagation.extract(ROOT_CONTEXT, message.properties.headers ?? {});
    const span = handRolledTracer.startSpan(
      `process ${queue}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: { 'messaging.system': 'rabbitmq', 'messaging.destination.name': queue },
      },
      parent,
    );
    try {
      context.with(trace.setSpan(parent, span), handle, undefined, message);
    } finally {
      span.end();
    }
  };
}

const VARIANTS = {
  [BARE]: { sdk: false, instrument: false, handRolled: false },
  [NO_SDK]: { sdk: false, instrument: true, handRolled: false },
  [TASKLENS]: { sdk: true, instrument: true, handRolled: false },
  [HAND_ROLLED]: { sdk: true, instrument: false, handRolled: true },
};
const baseline = await baselineAdapter('amqplib');
if (baseline !== undefined) {
  VARIANTS[baseline.name] = {
    sdk: true,
    instrument: true,
    handRolled: false,
    instrumentChannel: baseline.adapter.instrumentChannel,
  };
}

/** The consume phase of one sample: messages/s and CPU µs per message. */
async function consumeAll(connection, queue, variant) {
  const raw = await connection.createChannel();
  const channel = variant.instrument ? (variant.instrumentChannel ?? instrumentChannel)(raw) : raw;
  await channel.prefetch(PREFETCH);
  let acked = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const handle = (message) => {
    if (message === null) return;
    channel.ack(message);
    acked += 1;
    if (acked === MESSAGES) done(stopClock());
  };
  const stopClock = startClock();
  const { consumerTag } = await channel.consume(
    queue,
    variant.handRolled ? handRolledSpan(queue, handle) : handle,
  );
  const { seconds, cpuMicros } = await finished;
  await channel.cancel(consumerTag);
  await channel.deleteQueue(queue);
  await channel.close();
  return { rate: MESSAGES / seconds, cpu: cpuMicros / MESSAGES };
}

/** Runs the variants in alternating rounds, prints the tables and targets; resolves to them. */
export async function main() {
  const connection = await amqp.connect(URL).catch((error) => {
    throw new Error(
      `RabbitMQ is not reachable at ${URL} (${error.message}); start it with: rabbitmq-server -detached`,
    );
  });
  const names = Object.keys(VARIANTS);
  let samples;
  try {
    samples = await runRounds(names, REPETITIONS, async (name, round) => {
      const queue = `bench-amqplib-${process.pid}-${name.replace(/\W+/g, '')}-${round}`;
      await fill(connection, queue);
      const stopSdk = VARIANTS[name].sdk ? registerBenchSdk() : undefined;
      try {
        return await consumeAll(connection, queue, VARIANTS[name]);
      } finally {
        await stopSdk?.();
      }
    });
  } finally {
    await connection.close();
  }
  const { rates, cpus, targets, versus, cpuVersus } = reportBrokerRounds({
    broker: 'RabbitMQ',
    unit: 'msg',
    samples,
    throughputTitle: `amqplib consumer throughput: ${MESSAGES} messages, prefetch ${PREFETCH}, manual ack, ${REPETITIONS} rounds`,
    cpuTitle:
      'amqplib consumer: CPU of this process per message over the consume phase (same samples)',
  });
  if (baseline !== undefined) {
    console.log(
      `\ntasklens vs ${baseline.name}: throughput ${formatRatios(versus(TASKLENS, baseline.name))}, ` +
        `CPU/msg ${cpuVersus(TASKLENS, baseline.name)}`,
    );
  }
  return { rates, cpus, targets };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
