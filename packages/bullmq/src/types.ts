import type { ExpectedErrors, TraceMode } from '@tasklens/core';
import type { QueueDepthOptions, TaskNameOption } from '@tasklens/core/adapter';
import type { JobsOptions } from 'bullmq';

/**
 * What the options' callbacks see of a job: on the producer side the job being added, on the
 * worker side the `Job` itself (which has these fields too).
 */
export interface JobDescription {
  /** The job's name, as given to `queue.add(name, …)`. */
  name: string;
  /** The queue the job goes to. */
  queueName: string;
  /** The job's data. */
  data?: unknown;
  /** The job's options. */
  opts?: JobsOptions;
}

/**
 * Options of the producer side ({@link instrumentQueue}, {@link instrumentFlowProducer}).
 * `queueDepth` and `queueDepthIntervalMs` apply to `instrumentQueue` (README: Queue depth).
 */
export interface ProducerOptions extends QueueDepthOptions {
  /**
   * The task name (`task.name`, a metric label) of a job, or a function of the job giving one.
   * Default: the job's name, which must then be a kind of work (`send-email`), never an id.
   */
  taskName?: TaskNameOption<JobDescription>;
}

/**
 * Options of the worker side ({@link taskProcessor}). `J` is the job type the processor takes.
 * `queueDepth` and `queueDepthIntervalMs`: see the README's Queue depth.
 */
export interface TaskProcessorOptions<
  J extends JobDescription = JobDescription,
> extends QueueDepthOptions {
  /**
   * The task name (`task.name`, a metric label) of a job, or a function of the job giving one.
   * Default: the job's name, which must then be a kind of work (`send-email`), never an id.
   */
  taskName?: TaskNameOption<J>;
  /**
   * How the process span relates to the producer's span: `parent` (one trace) or `link` (a new
   * trace linked to the producer), or a function of the job. Default: `link` for runs of a job
   * scheduler or repeatable job (each run is its own trace), `parent` for every other job.
   */
  traceMode?: TraceMode | ((job: J) => TraceMode);
  /**
   * Errors that are part of normal operation: the attempt counts as a success (with
   * `task.expected_error`). BullMQ still fails or retries the job as usual.
   */
  expectedErrors?: ExpectedErrors;
}
