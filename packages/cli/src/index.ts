export { main } from './main.js';
export type { CommandOutput } from './command-output.js';
export {
  collectFailureCounts,
  collectTaskRows,
  collectTaskSeries,
  failureCountQueries,
  queueRowQueries,
  seriesStepSeconds,
  taskRowQueries,
  taskSeriesQueries,
  failedAttemptsSelector,
} from './task-queries/collect.js';
export type { FailureCount, FailureFilter, TaskFilter } from './task-queries/collect.js';
export { dashboardExpressions, recordingRuleExpressions } from './task-queries/deploy-queries.js';
export type { DashboardExpression } from './task-queries/deploy-queries.js';
export { PrometheusClient } from './prometheus-client.js';
export type { PrometheusSample, PrometheusSeries } from './prometheus-client.js';
