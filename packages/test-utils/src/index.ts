/*
 * Helpers shared by the tests, fixture processes and benchmarks of the repository (private: never
 * published). A helper one package alone uses stays in that package's test/support folder.
 */
export { CHROMIUM_PATH, launchBrowser } from './browser.js';
export { closedPort } from './closed-port.js';
export {
  dashboardPanels,
  dashboardQueries,
  MATCH_ALL_VARIABLES,
  substituteVariables,
} from './dashboard-queries.js';
export type { DashboardQuery } from './dashboard-queries.js';
export { captureDiagWarnings } from './diag-warnings.js';
export { eventually } from './eventually.js';
export { startInMemoryTelemetry } from './in-memory-telemetry.js';
export type { InMemoryTelemetry, MetricPoint } from './in-memory-telemetry.js';
export { queueDepthOf, queueDepthWhen } from './queue-depth.js';
export type { QueueDepth, QueueGauge } from './queue-depth.js';
export { startOtlpReceiver } from './otlp-receiver.js';
export type {
  Attributes as ReceivedAttributes,
  AttributeValue as ReceivedAttributeValue,
  OtlpReceiver,
  ReceivedExemplar,
  ReceivedMetricPoint,
  ReceivedRequest,
  ReceivedSpan,
} from './otlp-receiver.js';
export { startNodeProcess } from './node-process.js';
export type { NodeProcess } from './node-process.js';
export { REDIS_HOST, REDIS_PORT, requireRedis, START_REDIS } from './redis.js';
export { registerSdk, startProducerSdk, unregisterGlobals } from './register-sdk.js';
export type { PrintedSpan, ProducerSdk, RegisteredSdk, SdkOptions } from './register-sdk.js';
