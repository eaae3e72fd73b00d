// Demo producer: sends the workload through BullMQ with tasklens producer spans, then exits
// (its spans are flushed by telemetry.shutdown()).
import { Queue } from 'bullmq';
import { instrumentQueue } from '@tasklens/bullmq';
import { startTelemetry } from '@tasklens/node';
import { connection, QUEUE, workload } from './tasks.js';

const telemetry = startTelemetry({ serviceName: 'demo-producer' });
const queue = instrumentQueue(new Queue(QUEUE, { connection }));

let sent = 0;
for (const [name, count, options] of workload) {
  for (let index = 0; index < count; index++) {
    await queue.add(name, { index }, { removeOnComplete: true, removeOnFail: 100, ...options });
    sent++;
  }
}
console.log(`producer: sent ${sent} jobs to ${QUEUE}`);
await queue.close();
await telemetry.shutdown();
