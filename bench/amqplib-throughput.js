// Consumer throughput of amqplib on RabbitMQ: bare vs @tasklens/amqplib (with the benchmark SDK,
// and with no SDK registered), side by side in one run.
// Each sample pre-fills a fresh queue with 10k no-op messages (carrying trace headers, as an
// instrumented producer sends them), then times consume start → 10k manual acks, prefetch 50.
// Run after `npx tsc --build`: node bench/amqplib-throughput.js
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import amqp from 'amqplib';
import { instrumentChannel } from '@tasklens/amqplib';
import { startBenchSdk } from '@tasklens/test-utils';
import { median, printTable } from './support/report.js';

const URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MESSAGES = 10_000;
const PREFETCH = 50;
const REPETITIONS = 5;

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

/**
 * One sample: messages per second from consume start to the last ack, and this process's CPU
 * time per message over the same span (the broker's share of the two cores is not in it).
 */
async function consumeAll(connection, queue, instrument) {
  const raw = await connection.createChannel();
  const channel = instrument ? instrumentChannel(raw) : raw;
  await channel.prefetch(PREFETCH);
  let acked = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const { consumerTag } = await channel.consume(queue, (message) => {
    if (message === null) return;
    channel.ack(message);
    acked += 1;
    if (acked === MESSAGES) done(performance.now());
  });
  const ended = await finished;
  const cpu = process.cpuUsage(cpuBefore);
  await channel.cancel(consumerTag);
  await channel.deleteQueue(queue);
  await channel.close();
  return {
    rate: MESSAGES / ((ended - started) / 1000),
    cpuPerMessage: (cpu.user + cpu.system) / MESSAGES,
  };
}

async function sample(connection, variant, repetition) {
  const queue = `bench-amqplib-${process.pid}-${variant.replace(/\W+/g, '')}-${repetition}`;
  await fill(connection, queue);
  if (variant === 'bare') return consumeAll(connection, queue, false);
  if (variant === 'tasklens (no SDK)') return consumeAll(connection, queue, true);
  const stopSdk = startBenchSdk();
  try {
    return await consumeAll(connection, queue, true);
  } finally {
    await stopSdk();
  }
}

/** Runs the benchmark and prints its table; resolves to the results. */
export async function main() {
  const connection = await amqp.connect(URL).catch((error) => {
    throw new Error(
      `RabbitMQ is not reachable at ${URL} (${error.message}); start it with: rabbitmq-server -detached`,
    );
  });
  const variants = ['bare', 'tasklens (no SDK)', 'tasklens'];
  const results = variants.map((name) => ({ name, samples: [], cpu: [] }));
  try {
    await sample(connection, 'bare', 'warmup');
    await sample(connection, 'tasklens (no SDK)', 'warmup');
    await sample(connection, 'tasklens', 'warmup');
    for (let repetition = 0; repetition < REPETITIONS; repetition += 1) {
      // Alternate the order so drift on the machine does not favour one variant.
      const order = repetition % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const { rate, cpuPerMessage } = await sample(connection, variant, repetition);
        const result = results.find((candidate) => candidate.name === variant);
        result.samples.push(rate);
        result.cpu.push(cpuPerMessage);
      }
    }
  } finally {
    await connection.close();
  }
  printTable(
    `amqplib consumer throughput: ${MESSAGES} messages, prefetch ${PREFETCH}, manual ack, ${REPETITIONS} repetitions`,
    'msg/s',
    [
      { name: 'amqplib (bare)', samples: results[0].samples },
      { name: '@tasklens/amqplib (no SDK)', samples: results[1].samples },
      { name: '@tasklens/amqplib', samples: results[2].samples },
    ],
    { baseline: 'amqplib (bare)', higherIsBetter: true },
  );
  printTable(
    'amqplib consumer CPU of the Node process per message (same samples)',
    'µs/msg',
    [
      { name: 'amqplib (bare)', samples: results[0].cpu },
      { name: '@tasklens/amqplib (no SDK)', samples: results[1].cpu },
      { name: '@tasklens/amqplib', samples: results[2].cpu },
    ],
    { baseline: 'amqplib (bare)', higherIsBetter: false },
  );
  const bare = median(results[0].samples);
  return {
    results,
    ratio: median(results[2].samples) / bare,
    noSdkRatio: median(results[1].samples) / bare,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
