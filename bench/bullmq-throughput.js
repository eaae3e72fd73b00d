// Worker throughput and CPU of BullMQ on Redis, five variants alternating in one run:
//
//   bare                  Queue + Worker, no instrumentation, no SDK
//   tasklens, no SDK      instrumentQueue + taskProcessor, no SDK registered
//   tasklens, SDK         the same on the benchmark SDK (spans and every metric)
//   hand-rolled span, SDK one CONSUMER span per job and no metric: the carrier read from the
//                         job's telemetry metadata, propagation.extract, the handler run in the
//                         span's context (the least per-job tracing costs)
//   bullmq-otel, SDK      BullMQ's own telemetry, traces and metrics
//
// Each sample fills a fresh queue with JOBS no-op jobs through addBulk, with the variant's own
// producer (the hand-rolled one reuses tasklens's, so its jobs carry the same carrier), then times
// the consume phase: worker start → the last completion, concurrency 50. It records jobs/s and
// this process's CPU time per job over that phase (process.cpuUsage: Redis's share of the two
// cores is not in it). Medians, spreads and per-round ratios are printed, then targets T1 and
// T3–T5 of the performance issue; T1 divides the CPU tasklens adds per job by the cost of one
// attempt in isolation (bench/attempt-cost.js), measured in this process after the rounds.
// Run after `npx tsc --build`: node bench/bullmq-throughput.js
import { pathToFileURL } from 'node:url';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { Queue, Worker } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { instrumentQueue, taskProcessor } from '@tasklens/bullmq';
import { attemptCostNs } from './attempt-cost.js';
import { baselineAdapter } from './support/baseline.js';
import { registerBenchSdk } from './support/bench-sdk.js';
import { formatNumber, formatRatios, median, target } from './support/report.js';
import {
  BARE,
  NO_SDK,
  TASKLENS,
  HAND_ROLLED,
  reportBrokerRounds,
} from './support/broker-report.js';
import { runRounds, startClock } from './support/rounds.js';

const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 12);
const CONCURRENCY = 50;
const BULK_SIZE = 1_000;

const noop = () => Promise.resolve();
const workerOptions = { connection, concurrency: CONCURRENCY, autorun: false };

const handRolledTracer = trace.getTracer('bench-hand-rolled');

/** One CONSUMER span per job under the producer's context; no metric. */
function handRolledProcessor(job) {
  let carrier = {};
  try {
    const metadata = job.opts.telemetry?.metadata;
    if (metadata !== undefined) carrier = JSON.parse(metadata);
  } catch {
    // A job without a readable carrier starts a new trace.
  }
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const span = handRolledTracer.startSpan(
    `process ${job.queueName}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'bullmq', 'messaging.destination.name': job.queueName },
    },
    parent,
  );
  return context.with(trace.setSpan(parent, span), noop).finally(() => span.end());
}

const PEER = 'bullmq-otel (traces + metrics), SDK';

const VARIANTS = {
  [BARE]: {
    sdk: false,
    queue: (name) => new Queue(name, { connection }),
    worker: (name) => new Worker(name, noop, workerOptions),
  },
  [NO_SDK]: {
    sdk: false,
    queue: (name) => instrumentQueue(new Queue(name, { connection })),
    worker: (name) => new Worker(name, taskProcessor(noop), workerOptions),
  },
  [TASKLENS]: {
    sdk: true,
    queue: (name) => instrumentQueue(new Queue(name, { connection })),
    worker: (name) => new Worker(name, taskProcessor(noop), workerOptions),
  },
  [HAND_ROLLED]: {
    sdk: true,
    queue: (name) => instrumentQueue(new Queue(name, { connection })),
    worker: (name) => new Worker(name, handRolledProcessor, workerOptions),
  },
  [PEER]: {
    sdk: true,
    queue: (name) =>
      new Queue(name, { connection, telemetry: new BullMQOtel({ enableMetrics: true }) }),
    worker: (name) =>
      new Worker(name, noop, {
        ...workerOptions,
        telemetry: new BullMQOtel({ enableMetrics: true }),
      }),
  },
};

const baseline = await baselineAdapter('bullmq');
if (baseline !== undefined) {
  VARIANTS[baseline.name] = {
    sdk: true,
    queue: (name) => baseline.adapter.instrumentQueue(new Queue(name, { connection })),
    worker: (name) => new Worker(name, baseline.adapter.taskProcessor(noop), workerOptions),
  };
}

async function fill(queue) {
  for (let start = 0; start < JOBS; start += BULK_SIZE) {
    const jobs = [];
    for (let index = start; index < Math.min(JOBS, start + BULK_SIZE); index += 1) {
      jobs.push({ name: 'noop', data: { index } });
    }
    await queue.addBulk(jobs);
  }
}

/** Starts `worker` and resolves once JOBS jobs completed or failed, with how many failed. */
async function consume(worker) {
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
  void worker.run();
  await finished;
  return failed;
}

/** One sample: jobs/s and CPU µs per job over the consume phase. */
async function sample(name, round) {
  const variant = VARIANTS[name];
  const queueName = `tasklens-bench-bullmq-${process.pid}-${round}-${name.replace(/\W+/g, '')}`;
  // The SDK is registered for the fill and again for the consume phase, so the producer spans
  // are exported before the phase that is timed.
  let stopSdk = variant.sdk ? registerBenchSdk() : undefined;
  const queue = variant.queue(queueName);
  try {
    await fill(queue);
    await stopSdk?.();
    stopSdk = variant.sdk ? registerBenchSdk() : undefined;
    const worker = variant.worker(queueName);
    const stopClock = startClock();
    const failed = await consume(worker);
    const { seconds, cpuMicros } = stopClock();
    await worker.close();
    if (failed > 0) throw new Error(`${name}: ${failed} jobs failed`);
    return { rate: JOBS / seconds, cpu: cpuMicros / JOBS };
  } finally {
    await stopSdk?.();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** Runs the variants in alternating rounds, prints the tables and targets; resolves to them. */
export async function main() {
  const names = Object.keys(VARIANTS);
  const samples = await runRounds(names, REPETITIONS, sample);
  const { rates, cpus, of, versus, cpuVersus, targets } = reportBrokerRounds({
    broker: 'BullMQ',
    unit: 'job',
    samples,
    throughputTitle: `BullMQ worker throughput: ${JOBS} no-op jobs, concurrency ${CONCURRENCY}, ${REPETITIONS} rounds`,
    cpuTitle: 'BullMQ worker: CPU of this process per job over the consume phase (same samples)',
  });
  const attemptNs = await attemptCostNs();
  const addedNs =
    median(of(cpus, TASKLENS).map((cpu, round) => cpu - of(cpus, BARE)[round])) * 1000;
  console.log(
    `tasklens with the SDK adds ${formatNumber(addedNs / 1000)} µs of CPU per job over bare ` +
      `(median of per-round differences); one attempt in isolation costs ${formatNumber(attemptNs)} ns`,
  );
  targets.unshift(
    target('T1', 'BullMQ: CPU tasklens adds per job, in attempt costs', addedNs / attemptNs, {
      atMost: 2,
      unit: 'x attempt cost',
      detail: `${formatNumber(addedNs / 1000)} µs/job added, attempt ${formatNumber(attemptNs)} ns`,
    }),
  );
  targets.push(
    target('T4', 'BullMQ: tasklens (SDK) vs bullmq-otel, throughput', versus(TASKLENS, PEER), {
      atLeast: 1.3,
      detail: `CPU/job ${cpuVersus(TASKLENS, PEER)} bullmq-otel's`,
    }),
  );
  if (baseline !== undefined) {
    console.log(
      `tasklens vs ${baseline.name}: throughput ${formatRatios(versus(TASKLENS, baseline.name))}, ` +
        `CPU/job ${cpuVersus(TASKLENS, baseline.name)}`,
    );
  }
  return { rates, cpus, attemptNs, targets };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
