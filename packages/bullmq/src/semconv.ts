/*
 * Attribute names this adapter sets itself, beside the ones core sets and exports (copied as constants, the
 * contrib practice, rather than importing incubating semantic-convention exports).
 */

/** The id of the job scheduler that produced a job (our own attribute, documented in the README). */
export const ATTR_BULLMQ_JOB_SCHEDULER_ID = 'bullmq.job_scheduler.id';

export const MESSAGING_SYSTEM_BULLMQ = 'bullmq';
