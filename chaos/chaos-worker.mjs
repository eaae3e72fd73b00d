// The chaos suite's worker process: processes the BullMQ queue QUEUE with @tasklens/bullmq and
// @tasklens/node, and appends one JSON line per attempt start and per attempt end to
// ATTEMPTS_FILE, written synchronously so that a kill -9 loses no record of what it ran. A job
// whose data says `fail` throws on every attempt; `workMs` is how long an attempt works.
// Flushes its telemetry and exits on SIGTERM.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { Worker } from 'bullmq';
import { taskProcessor } from '@tasklens/bullmq';
import { startTelemetry } from '@tasklens/node';

class ChaosTaskError extends Error {}

const attemptsFile = process.env.ATTEMPTS_FILE;
const record = (fields) => appendFileSync(attemptsFile, `${JSON.stringify(fields)}\n`);

const telemetry = startTelemetry({ serviceName: 'chaos-worker', handleSignals: false });
// Short locks, so that the job a killed worker held is found stalled and run again within seconds.
const lockMs = Number(process.env.LOCK_MS ?? 5_000);
const worker = new Worker(
  process.env.QUEUE,
  taskProcessor(async (job) => {
    const spanContext = trace.getActiveSpan()?.spanContext();
    const attempt = {
      job: job.id,
      attempt: Math.max(job.attemptsStarted, job.attemptsMade + 1),
      trace: spanContext?.traceId,
      span: spanContext?.spanId,
      pid: process.pid,
      workMs: job.data.workMs,
    };
    record({ event: 'start', ...attempt, at: Date.now() });
    await sleep(job.data.workMs);
    if (job.data.fail) {
      const final = job.attemptsMade + 1 >= job.opts.attempts;
      record({ event: 'end', ...attempt, outcome: 'failure', final, at: Date.now() });
      throw new ChaosTaskError('the chaos suite fails one task in ten');
    }
    record({ event: 'end', ...attempt, outcome: 'success', final: true, at: Date.now() });
  }),
  {
    connection: { host: '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) },
    concurrency: Number(process.env.CONCURRENCY ?? 20),
    lockDuration: lockMs,
    stalledInterval: lockMs,
  },
);
worker.on('error', (error) => console.error(`chaos worker: ${error.message}`));
process.once('SIGTERM', async () => {
  await worker.close();
  await telemetry.shutdown();
  process.exit(0);
});
