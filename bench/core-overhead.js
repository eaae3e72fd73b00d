// Per-task cost of the tasklens wrapper: (a) a bare await, (b) hand-written OTel code doing the
// same work (active span + duration histogram + outcome counter), (c) runTask with the same SDK,
// (d) runTask with no SDK registered. Run with `npm run bench` or `node bench/core-overhead.js`.
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { runTask } from '@tasklens/core';
import { registerBenchSdk } from './support/bench-sdk.js';
import { median, printTable } from './support/report.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 100_000);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 7);

const work = async () => 1;

function handWritten() {
  const tracer = trace.getTracer('hand-written');
  const meter = metrics.getMeter('hand-written');
  const duration = meter.createHistogram('job.duration', { unit: 's' });
  const outcomes = meter.createCounter('job.outcomes');
  return (fn) =>
    tracer.startActiveSpan('send-email', async (span) => {
      const start = performance.now();
      try {
        const result = await fn();
        outcomes.add(1, { 'task.name': 'send-email', 'task.outcome': 'success' });
        return result;
      } catch (error) {
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        outcomes.add(1, { 'task.name': 'send-email', 'task.outcome': 'failure' });
        throw error;
      } finally {
        duration.record((performance.now() - start) / 1000, { 'task.name': 'send-email' });
        span.end();
      }
    });
}

const options = { name: 'send-email' };
const bare = () => work();
const tasklens = () => runTask(options, work);

async function nanosecondsPerTask(run) {
  const start = process.hrtime.bigint();
  for (let index = 0; index < TASKS; index++) await run();
  return Number(process.hrtime.bigint() - start) / TASKS;
}

export async function main() {
  const names = ['bare', 'tasklens, no SDK', 'hand-written OTel', 'tasklens, SDK'];
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  // One warm-up round, not recorded, then alternate variants so drift hits all alike.
  for (let round = 0; round <= REPETITIONS; round++) {
    const record = (name, value) => round > 0 && samples[name].push(value);
    record('bare', await nanosecondsPerTask(bare));
    record('tasklens, no SDK', await nanosecondsPerTask(tasklens));
    const stopSdk = registerBenchSdk();
    const wrap = handWritten();
    record('hand-written OTel', await nanosecondsPerTask(() => wrap(work)));
    record('tasklens, SDK', await nanosecondsPerTask(tasklens));
    await stopSdk();
  }
  const results = Object.entries(samples).map(([name, values]) => ({ name, samples: values }));
  printTable(`Per-task cost, ${TASKS} sequential tasks × ${REPETITIONS}`, 'ns/task', results, {
    baseline: 'hand-written OTel',
    higherIsBetter: false,
  });
  const added = median(samples['tasklens, no SDK']) - median(samples.bare);
  console.log(`tasklens with no SDK adds ${added.toFixed(0)} ns per task over a bare await`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
