// The chaos suite's producer process: adds RATE jobs per second to the BullMQ queue QUEUE with
// @tasklens/bullmq until SIGTERM, then flushes its telemetry and exits. Job ids are
// `<PHASE>-<n>`; every tenth job fails on each of its 2 attempts, another tenth works 250 ms
// (so that the worker always has an attempt to be killed in), the others 5 to 40 ms; each added
// job is appended to JOBS_FILE as one JSON line once Redis has it.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { instrumentQueue } from '@tasklens/bullmq';
import { startTelemetry } from '@tasklens/node';

const TICK_MS = 50;
const phase = process.env.PHASE;
const rate = Number(process.env.RATE);
const jobsFile = process.env.JOBS_FILE;

const telemetry = startTelemetry({ serviceName: 'chaos-producer', handleSignals: false });
const queue = instrumentQueue(
  new Queue(process.env.QUEUE, {
    connection: { host: '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) },
  }),
);
let stopping = false;
process.once('SIGTERM', () => (stopping = true));

async function add(sequence) {
  const job = `${phase}-${sequence}`;
  await queue.add(
    'chaos-task',
    { fail: sequence % 10 === 9, workMs: sequence % 10 === 4 ? 250 : 5 + ((sequence * 7) % 36) },
    {
      jobId: job,
      attempts: 2,
      backoff: { type: 'fixed', delay: 100 },
      removeOnComplete: true,
      removeOnFail: true,
    },
  );
  appendFileSync(jobsFile, `${JSON.stringify({ job, phase, at: Date.now() })}\n`);
}

const started = Date.now();
let added = 0;
while (!stopping) {
  // Keeps the average rate whatever a slow tick cost.
  const due = Math.floor(((Date.now() - started) * rate) / 1000);
  const batch = [];
  for (; added < due; added += 1) batch.push(add(added));
  await Promise.all(batch);
  await sleep(TICK_MS);
}
await queue.close();
await telemetry.shutdown();
process.exit(0);
