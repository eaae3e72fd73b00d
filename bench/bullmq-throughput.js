// Worker throughput of BullMQ on Redis: bare vs @tasklens/bullmq (with no SDK registered, and
// with the benchmark SDK) vs bullmq-otel (traces and metrics), side by side in one run. Each sample pre-fills a fresh queue with 10k no-op jobs
// through addBulk (each variant with its own producer instrumentation, so the worker reads the
// context it would find in production), then times worker start → 10k completions, concurrency 50.
// Variants alternate across repetitions; the instrumented ones run on the shared benchmark SDK.
// Run after `npx tsc --build`: node bench/bullmq-throughput.js
import { pathToFileURL } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { instrumentQueue, taskProcessor } from '@tasklens/bullmq';
import { startBenchSdk } from '@tasklens/test-utils';
import { median, printTable } from './support/report.js';

const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};
const JOBS = 10_000;
const CONCURRENCY = 50;
const REPETITIONS = 5;
const BULK_SIZE = 1_000;

const noop = () => Promise.resolve();

const VARIANTS = [
  {
    name: 'bullmq (bare)',
    setUp: () => ({ stop: () => Promise.resolve() }),
    queue: (name) => new Queue(name, { connection }),
    worker: (name) =>
      new Worker(name, noop, { connection, concurrency: CONCURRENCY, autorun: false }),
  },
  {
    name: '@tasklens/bullmq',
    setUp: () => ({ stop: startBenchSdk() }),
    queue: (name) => instrumentQueue(new Queue(name, { connection })),
    worker: (name) =>
      new Worker(name, taskProcessor(noop), {
        connection,
        concurrency: CONCURRENCY,
        autorun: false,
      }),
  },
  {
    name: '@tasklens/bullmq (no SDK)',
    setUp: () => ({ stop: () => Promise.resolve() }),
    queue: (name) => instrumentQueue(new Queue(name, { connection })),
    worker: (name) =>
      new Worker(name, taskProcessor(noop), {
        connection,
        concurrency: CONCURRENCY,
        autorun: false,
      }),
  },
  {
    name: 'bullmq-otel (traces + metrics)',
    setUp: () => ({ stop: startBenchSdk() }),
    queue: (name) =>
      new Queue(name, { connection, telemetry: new BullMQOtel({ enableMetrics: true }) }),
    worker: (name) =>
      new Worker(name, noop, {
        connection,
        concurrency: CONCURRENCY,
        autorun: false,
        telemetry: new BullMQOtel({ enableMetrics: true }),
      }),
  },
];

async function fill(queue) {
  for (let start = 0; start < JOBS; start += BULK_SIZE) {
    const jobs = [];
    for (let index = start; index < Math.min(JOBS, start + BULK_SIZE); index += 1) {
      jobs.push({ name: 'noop', data: { index } });
    }
    await queue.addBulk(jobs);
  }
}

/** One sample of a variant: jobs per second from worker start to the last completion. */
async function sample(variant, repetition) {
  const name = `tasklens-bench-bullmq-${process.pid}-${repetition}-${variant.name.replace(/\W+/g, '')}`;
  const { stop } = variant.setUp();
  const queue = variant.queue(name);
  try {
    await fill(queue);
    const worker = variant.worker(name);
    let completed = 0;
    let failed = 0;
    const finished = new Promise((resolve) => {
      const count = () => {
        if (completed + failed === JOBS) resolve();
      };
      worker.on('completed', () => {
        completed += 1;
        count();
      });
      worker.on('failed', () => {
        failed += 1;
        count();
      });
    });
    await worker.waitUntilReady();
    const started = performance.now();
    void worker.run();
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await worker.close();
    if (failed > 0) throw new Error(`${variant.name}: ${failed} jobs failed`);
    return JOBS / seconds;
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
    await stop();
  }
}

/** Runs every variant REPETITIONS times, alternating, and prints the medians and ratios. */
export async function main() {
  const results = VARIANTS.map((variant) => ({ name: variant.name, samples: [] }));
  for (let repetition = 0; repetition < REPETITIONS; repetition += 1) {
    // Rotate the order so that no variant always runs first (warm-up) or last.
    for (let offset = 0; offset < VARIANTS.length; offset += 1) {
      const index = (repetition + offset) % VARIANTS.length;
      results[index].samples.push(await sample(VARIANTS[index], repetition));
    }
  }
  printTable(
    `BullMQ worker throughput: ${JOBS} no-op jobs, concurrency ${CONCURRENCY}, ${REPETITIONS} repetitions`,
    'jobs/s',
    results,
    { baseline: 'bullmq (bare)', higherIsBetter: true },
  );
  for (const { name, samples } of results) {
    console.log(`  ${name} samples: ${samples.map((value) => value.toFixed(0)).join(', ')}`);
  }
  const bare = median(results[0].samples);
  return {
    results,
    ratio: median(results[1].samples) / bare,
    noSdkRatio: median(results[2].samples) / bare,
    peerRatio: median(results[3].samples) / bare,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
