// Demo worker: processes the demo queue with tasklens process spans and metrics until SIGTERM,
// then closes the worker and flushes telemetry.
import { Worker } from 'bullmq';
import { taskProcessor } from '@tasklens/bullmq';
import { startTelemetry } from '@tasklens/node';
import { behaviours, connection, QUEUE } from './tasks.js';

const telemetry = startTelemetry({ serviceName: 'demo-worker', handleSignals: false });

let completed = 0;
let failed = 0;
const worker = new Worker(
  QUEUE,
  taskProcessor(async (job) => behaviours[job.name](job.attemptsStarted ?? job.attemptsMade + 1)),
  { connection, concurrency: 8 },
);
worker.on('completed', () => completed++);
worker.on('failed', () => failed++);
console.log(`worker: processing ${QUEUE}`);

process.once('SIGTERM', async () => {
  await worker.close();
  console.log(`worker: ${completed} attempts completed, ${failed} failed (retries included)`);
  await telemetry.shutdown();
  process.exit(0);
});
