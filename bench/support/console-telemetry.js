// The telemetry of the console benchmark (bench/console-page.js): one service's worker process
// with @tasklens/node `startTelemetry()` exporting to OTEL_EXPORTER_OTLP_ENDPOINT, running its
// tasks with @tasklens/core `runTask`, each task the given number of successful attempts and of
// failed ones per error type, interleaved, then shutting telemetry down (which flushes).
//
//   node bench/support/console-telemetry.js '<plan as JSON>'
//
// plan: { service, tasks: [{ name, queue?, system?, successes, failures: { ErrorType: n } }] }.
// Prints one JSON line: { attempts, failures }.
import { runTask } from '@tasklens/core';
import { startTelemetry } from '@tasklens/node';

/** Attempts per second: below what the SDK's batch queue (2048 spans) can take without a drop. */
const RATE = 4_000;
const DELIVERY = 50;

/** The failures' classes: `error.type` is the class name. */
const ERROR_CLASSES = Object.fromEntries(
  [
    'PaymentDeclinedError',
    'UpstreamUnavailableError',
    'InvalidPayloadError',
    'RateLimitedError',
    'StorageFullError',
  ].map((name) => [name, { [name]: class extends Error {} }[name]]),
);

const plan = JSON.parse(process.argv[2]);

/** Every attempt of the plan, interleaved across tasks and outcomes by a fixed shuffle. */
function attemptsOf(tasks) {
  const attempts = [];
  for (const task of tasks) {
    for (let index = 0; index < task.successes; index += 1) attempts.push({ task });
    for (const [errorType, count] of Object.entries(task.failures)) {
      for (let index = 0; index < count; index += 1) attempts.push({ task, errorType, index });
    }
  }
  let seed = 20;
  for (let index = attempts.length - 1; index > 0; index -= 1) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = seed % (index + 1);
    [attempts[index], attempts[other]] = [attempts[other], attempts[index]];
  }
  return attempts;
}

function runOne({ task, errorType, index }) {
  const options = { name: task.name };
  if (task.queue) options.queue = task.queue;
  if (task.system) options.system = task.system;
  return runTask(options, () => {
    if (errorType === undefined) return undefined;
    throw new ERROR_CLASSES[errorType](`${task.name}: ${errorType} on item ${index}`);
  }).catch(() => undefined);
}

const telemetry = startTelemetry({
  serviceName: plan.service,
  handleSignals: false,
  metricExportIntervalMs: 1_000,
  flushTimeoutMs: 30_000,
  strict: true,
});
const attempts = attemptsOf(plan.tasks);
const started = performance.now();
for (let done = 0; done < attempts.length; done += DELIVERY) {
  const wait = started + (done / RATE) * 1000 - performance.now();
  await new Promise((resolve) => (wait > 1 ? setTimeout(resolve, wait) : setImmediate(resolve)));
  await Promise.all(attempts.slice(done, done + DELIVERY).map(runOne));
}
await telemetry.shutdown();
process.stdout.write(
  `${JSON.stringify({
    attempts: attempts.length,
    failures: attempts.filter((attempt) => attempt.errorType !== undefined).length,
  })}\n`,
);
