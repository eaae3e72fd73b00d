export { instrumentFlowProducer } from './instrument-flow-producer.js';
export { instrumentQueue } from './instrument-queue.js';
export { taskProcessor } from './task-processor.js';
export { ATTR_BULLMQ_JOB_SCHEDULER_ID } from './semconv.js';
export type { JobDescription, ProducerOptions, TaskProcessorOptions } from './types.js';
