export { consumerTaskOptions } from './consumer-options.js';
export { processTask } from './process-task.js';
export { instrumentJetStream, publishTask } from './publish-task.js';
export { JetStreamNakError, JetStreamTermError } from './settlement-errors.js';
export type {
  JetStreamAckPolicy,
  JetStreamTaskHandler,
  ProcessTaskOptions,
  PublishTaskOptions,
} from './types.js';
export type { TaskContext, TraceMode } from '@tasklens/core';
