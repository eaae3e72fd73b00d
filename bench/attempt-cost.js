// Cost of one task attempt as an adapter starts and settles it, against hand-written OTel code
// that exports the same data (target T2 of the performance issue: at most 0.5x the hand-written
// code). Both run on the benchmark SDK (batch span processor, periodic metric reader, no-op
// exporters) over the same carriers, made by `injectTaskCarrier` in a producer span:
//
// - tasklens: `startTaskAttempt` from '@tasklens/core/adapter' with the options the BullMQ
//   adapter passes for a first attempt (name, queue, system, attempt, max attempts, id, carrier),
//   then `succeed()`;
// - hand-written: `propagation.extract` of the carrier, one CONSUMER span `process {queue}` under
//   it with the same ten attributes, the context with that span (what a handler would run in),
//   task.wait.duration from the carrier's enqueue time, task.duration, and task.pipeline.duration
//   from the carrier's chain start (kept in the handler's context too), the three histograms
//   with core's names, units, descriptions, attribute sets and bucket boundaries.
//
// Before timing, each variant runs once on an in-memory SDK (in a child process of its own, so
// that this process's tracers bind to the benchmark SDK only) and the exported span and metric
// points are compared (only the instrumentation scope's name differs); a difference stops the
// benchmark. Attempts run in deliveries of 100, with a turn of the event loop between
// deliveries as a worker has, so the batch processor exports (and never drops) the spans.
// Run after `npx tsc --build`: node bench/attempt-cost.js
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createContextKey,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  ValueType,
} from '@opentelemetry/api';
import {
  ENQUEUED_AT_KEY,
  injectTaskCarrier,
  PIPELINE_STARTED_AT_KEY,
  TASK_DURATION_BUCKETS,
} from '@tasklens/core';
import { startTaskAttempt } from '@tasklens/core/adapter';
import { registerSdk } from '@tasklens/test-utils';
import { registerBenchSdk } from './support/bench-sdk.js';
import { formatNumber, formatRatios, median, printRoundsTable, target } from './support/report.js';

const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 40_000);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 11);
const DELIVERY = 100;
const CARRIERS = 256;
const TASK = 'send-email';
const QUEUE = 'emails';
const SYSTEM = 'bullmq';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Carriers as producers write them: each from its own producer span (a trace of its own), with
 * the enqueue time. Made once the SDK is registered (its propagator writes them).
 */
function makeCarriers() {
  const producer = trace.getTracer('bench-producer');
  const carriers = [];
  for (let index = 0; index < CARRIERS; index += 1) {
    const span = producer.startSpan(`send ${QUEUE}`, { kind: SpanKind.PRODUCER });
    carriers.push(injectTaskCarrier({}, trace.setSpan(ROOT_CONTEXT, span)));
    span.end();
  }
  return carriers;
}

const IDS = Array.from({ length: CARRIERS }, (_, index) => String(1000 + index));

/** One attempt the way the BullMQ adapter starts it, settled at once. */
function tasklensAttempt(carrier, id) {
  const attempt = startTaskAttempt({
    name: TASK,
    queue: QUEUE,
    system: SYSTEM,
    attempt: 1,
    maxAttempts: 1,
    carrier,
    id,
  });
  attempt.succeed();
}

// Tracers are proxies, taken once at load as an application does; histograms come from the
// registered meter provider, so they are made per SDK.
const handWrittenTracer = trace.getTracer('bench-hand-written');
const CHAIN_STARTED_AT = createContextKey('bench chain started at');
const PIPELINE_DESCRIPTION =
  'Time from the first enqueue of a task chain to the end of an attempt of one of its tasks.';

/** The hand-written consumer instrumentation; exports what tasklensAttempt exports. */
function handWritten() {
  const meter = metrics.getMeter('bench-hand-written');
  const advice = { explicitBucketBoundaries: [...TASK_DURATION_BUCKETS] };
  const duration = meter.createHistogram('task.duration', {
    description: 'Duration of task attempts, by outcome.',
    unit: 's',
    valueType: ValueType.DOUBLE,
    advice,
  });
  const wait = meter.createHistogram('task.wait.duration', {
    description: 'Time tasks waited in their queue before an attempt started.',
    unit: 's',
    valueType: ValueType.DOUBLE,
    advice,
  });
  const pipeline = meter.createHistogram('task.pipeline.duration', {
    description: PIPELINE_DESCRIPTION,
    unit: 's',
    valueType: ValueType.DOUBLE,
    advice,
  });
  const waitAttributes = {
    'task.name': TASK,
    'task.queue': QUEUE,
    'messaging.system': SYSTEM,
  };
  const successAttributes = { ...waitAttributes, 'task.outcome': 'success' };
  const pipelineAttributes = { 'task.name': TASK, 'task.queue': QUEUE, 'task.outcome': 'success' };
  return (carrier, id) => {
    const started = performance.now();
    const { parent, span, waitSeconds } = startConsumerSpan(carrier, id);
    // The context the handler would run in, as the attempt's `context` is, with the chain's
    // start for the tasks the handler sends.
    const chainStartedAt = Number(carrier[PIPELINE_STARTED_AT_KEY]);
    trace.setSpan(parent, span).setValue(CHAIN_STARTED_AT, chainStartedAt);
    wait.record(waitSeconds, waitAttributes);
    span.setAttribute('task.outcome', 'success');
    duration.record((performance.now() - started) / 1000, successAttributes);
    pipeline.record(Math.max(0, Date.now() - chainStartedAt) / 1000, pipelineAttributes);
    span.end();
  };
}

/** The hand-written consumer span under the carrier's context, with tasklens's ten attributes. */
function startConsumerSpan(carrier, id) {
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const waitSeconds = Math.max(0, Date.now() - Number(carrier[ENQUEUED_AT_KEY])) / 1000;
  const span = handWrittenTracer.startSpan(
    `process ${QUEUE}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'task.name': TASK,
        'task.attempt': 1,
        'task.max_attempts': 1,
        'task.id': id,
        'messaging.system': SYSTEM,
        'messaging.operation.type': 'process',
        'messaging.message.id': id,
        'messaging.destination.name': QUEUE,
        'task.wait.duration': waitSeconds,
      },
    },
    parent,
  );
  return { parent, span, waitSeconds };
}

/**
 * The floor under T2: the hand-written code's span part alone (extract, the same span with the
 * same attributes, its context, end) with no histogram. What tasklens's attempt cannot go below
 * while it exports that span through the SDK.
 */
function spanAlone(carrier, id) {
  const { parent, span } = startConsumerSpan(carrier, id);
  trace.setSpan(parent, span);
  span.setAttribute('task.outcome', 'success');
  span.end();
}

/**
 * The metrics compared: tasklens also reports task.active and task.last_success, read from its
 * own state by observable instruments when the reader collects, not recorded per attempt.
 */
const COMPARED_METRICS = ['task.duration', 'task.pipeline.duration', 'task.wait.duration'];

/** What a variant exported for one attempt, as comparable plain data. */
async function exportedBy(makeVariant) {
  const sdk = registerSdk({ spanProcessor: 'simple', spanExporter: 'memory' });
  try {
    const carrier = makeCarriers()[0];
    await sdk.forceFlush();
    sdk.resetSpans();
    makeVariant()(carrier, IDS[0]);
    await sdk.forceFlush();
    const [span] = sdk.finishedSpans();
    const { scopeMetrics } = await sdk.collectMetrics();
    const points = scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter(({ descriptor }) => COMPARED_METRICS.includes(descriptor.name))
      .map(({ descriptor, dataPoints }) => ({
        descriptor: { ...descriptor, advice: undefined },
        points: dataPoints.map(({ attributes, value }) => ({
          attributes,
          boundaries: value.buckets.boundaries,
          count: value.count,
        })),
      }))
      .sort((a, b) => a.descriptor.name.localeCompare(b.descriptor.name));
    const attributes = { ...span.attributes, 'task.wait.duration': 'a number' };
    return {
      span: {
        name: span.name,
        kind: span.kind,
        parentIsCarriers:
          span.parentSpanContext?.spanId === carrier.traceparent.split('-')[2] &&
          span.spanContext().traceId === carrier.traceparent.split('-')[1],
        attributes: Object.fromEntries(Object.entries(attributes).sort()),
        status: span.status,
        links: span.links.length,
        events: span.events.length,
      },
      spans: sdk.finishedSpans().length,
      metrics: points,
    };
  } finally {
    await sdk.shutdown();
  }
}

const EXPORTERS = { tasklens: () => tasklensAttempt, 'hand-written': handWritten };

/** What `variant` exports, from a child process: `node bench/attempt-cost.js --exported <variant>`. */
function exportedInChild(variant) {
  return execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--exported', variant], {
    encoding: 'utf8',
  }).trim();
}

/** Stops the benchmark unless both variants export the same span and metric points. */
function checkSameExport() {
  const ours = exportedInChild('tasklens');
  const theirs = exportedInChild('hand-written');
  if (ours !== theirs) {
    throw new Error(
      `the variants export different data:\ntasklens:     ${ours}\nhand-written: ${theirs}`,
    );
  }
  const { span, metrics: points } = JSON.parse(ours);
  console.log(
    `exported data checked equal: one ${span.name} span (kind ${span.kind}, parent from the carrier: ` +
      `${span.parentIsCarriers}, ${Object.keys(span.attributes).length} attributes), ` +
      points.map(({ descriptor }) => descriptor.name).join(' and ') +
      ` (${points[0].points[0].boundaries.length} bucket boundaries)`,
  );
}

/** Nanoseconds per attempt over ATTEMPTS attempts of `run`, in deliveries of DELIVERY. */
async function nanosecondsPerAttempt(run, carriers) {
  let spent = 0n;
  for (let done = 0; done < ATTEMPTS; done += DELIVERY) {
    const start = process.hrtime.bigint();
    for (let index = done; index < done + DELIVERY; index += 1) {
      const slot = index % CARRIERS;
      run(carriers[slot], IDS[slot]);
    }
    spent += process.hrtime.bigint() - start;
    // Outside the timed part: the batch processor exports in the next turns (a no-op export,
    // whose cost the timed part of the next delivery pays either way).
    await nextTurn();
  }
  return Number(spent) / ATTEMPTS;
}

/**
 * Median ns of one tasklens attempt on the benchmark SDK, over `repetitions` samples: the
 * "attempt cost in isolation" that T1 divides the BullMQ worker's added CPU by.
 */
export async function attemptCostNs(repetitions = 5) {
  const samples = [];
  const stopSdk = registerBenchSdk();
  try {
    const carriers = makeCarriers();
    await nanosecondsPerAttempt(tasklensAttempt, carriers);
    for (let round = 0; round < repetitions; round += 1) {
      samples.push(await nanosecondsPerAttempt(tasklensAttempt, carriers));
    }
  } finally {
    await stopSdk();
  }
  return median(samples);
}

/** Runs the comparison and prints its table and target; resolves to the results. */
export async function main() {
  checkSameExport();
  const names = [
    'hand-written OTel, same data',
    'tasklens startTaskAttempt + succeed',
    'floor: its SDK span alone, no metrics',
  ];
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  // Round 0 warms up and is not recorded; each round has fresh carriers and alternates the order.
  for (let round = 0; round <= REPETITIONS; round += 1) {
    const stopSdk = registerBenchSdk();
    try {
      const carriers = makeCarriers();
      const runs = {
        [names[0]]: handWritten(),
        [names[1]]: tasklensAttempt,
        [names[2]]: spanAlone,
      };
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const ns = await nanosecondsPerAttempt(runs[name], carriers);
        if (round > 0) samples[name].push(ns);
      }
    } finally {
      await stopSdk();
    }
  }
  const results = names.map((name) => ({ name, samples: samples[name] }));
  const ratios = printRoundsTable(
    `One attempt with a carrier, settled at once: ${ATTEMPTS} attempts × ${REPETITIONS} rounds`,
    'ns',
    results,
    { baseline: names[0], higherIsBetter: false },
  );
  const tasklensNs = median(samples[names[1]]);
  console.log(
    `T2 floor: the SDK span alone is ${formatRatios(ratios[names[2]])} the hand-written code; ` +
      `tasklens adds ${formatNumber(tasklensNs - median(samples[names[2]]))} ns to it ` +
      '(metrics, wait, in-flight, validation of the carrier)',
  );
  return {
    attemptNs: tasklensNs,
    handWrittenNs: median(samples[names[0]]),
    targets: [
      target('T2', 'attempt cost, tasklens vs hand-written OTel', ratios[names[1]], {
        atMost: 0.5,
        detail: `${formatNumber(tasklensNs)} ns vs ${formatNumber(median(samples[names[0]]))} ns`,
      }),
    ],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--exported') {
    process.stdout.write(JSON.stringify(await exportedBy(EXPORTERS[process.argv[3]])));
  } else {
    await main();
  }
}
