// The real pipeline: a worker process with @tasklens/node `startTelemetry()` exporting OTLP/HTTP
// to the real collector of the native stack (@tasklens/stack on ports 23800–23811), and what the
// export path costs the worker's main thread per span. Three variants alternate, each sample a
// worker process of its own (startTelemetry registers once per process):
//
//   OTLP/HTTP JSON        startTelemetry as it is: spans and metrics as OTLP/HTTP JSON
//   OTLP/HTTP protobuf    the same, with span bodies serialized by the SDK's protobuf serializer
//                         (ProtobufTraceSerializer) and sent as application/x-protobuf through the
//                         same poster; @tasklens/node always sends JSON and does not read
//                         OTEL_EXPORTER_OTLP_PROTOCOL, so the worker patches the serializer
//   no-op span export     the same, with the span exporter's export() replaced by one that
//                         accepts and drops: no spool check, serialization or request
//
// Metrics are exported as OTLP/HTTP JSON every second in all three. The export path's CPU per
// span is a variant's main-thread CPU minus the no-op variant's of the same round, divided by the
// spans. Main-thread CPU comes from /proc/self/task/<pid>/schedstat (ns; Linux), the process's
// (all threads: GC helpers, libuv) from process.cpuUsage.
//
// The worker is an in-process loop, not a broker's: tasks arrive in deliveries of 50 (each task
// `runTaskAttempt` with a carrier, as an adapter starts it, and a no-op handler) paced to
// BENCH_RATE tasks/s, with the event loop free between deliveries. A broker client would add its
// own CPU and its run-to-run noise (±30 % on BullMQ) around the few µs per span measured here,
// and the export path does not depend on where a span came from. The pace keeps the SDK's batch
// queue (2048 spans) from overflowing, and the collector's own counters confirm that every span
// of the JSON and protobuf variants arrived. Run after `npx tsc --build`:
// node bench/otlp-pipeline.js
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { runTaskAttempt } from '@tasklens/core/adapter';
import { startTelemetry } from '@tasklens/node';
import { stackPortsFrom, startStack } from '@tasklens/stack';
import { formatNumber, median, printRoundsTable } from './support/report.js';
import { runRounds } from './support/rounds.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 30_000);
const WARMUP_TASKS = 5_000;
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 6);
const DELIVERY = 50;
const PORT_BASE = 23_800;

const VARIANTS = {
  json: 'OTLP/HTTP JSON (as shipped)',
  protobuf: 'OTLP/HTTP protobuf (patched)',
  noop: 'no-op span export',
};

// ---- the worker process ------------------------------------------------------------------------

/** Main-thread CPU time in µs: the scheduler's account of the thread whose id is the pid. */
function mainThreadCpuMicros() {
  try {
    const [onCpuNs] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return Number(onCpuNs) / 1000;
  } catch {
    const { user, system } = process.threadCpuUsage?.() ?? process.cpuUsage();
    return user + system;
  }
}

/** The OTLP span exporter startTelemetry made; throws when the SDK's internals changed. */
function registeredSpanExporter() {
  const global = trace.getTracerProvider();
  const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
  const processors = provider._activeSpanProcessor?._spanProcessors;
  const exporter = processors?.[0]?._exporter;
  if (processors?.length !== 1 || exporter?.constructor.name !== 'OtlpSpanExporter') {
    throw new Error('the SDK internals this benchmark patches have changed (span processors)');
  }
  return exporter;
}

function patchExporter(variant) {
  const exporter = registeredSpanExporter();
  if (variant === 'noop') {
    exporter.export = (_spans, done) => done({ code: ExportResultCode.SUCCESS });
  } else if (variant === 'protobuf') {
    JsonTraceSerializer.serializeRequest = ProtobufTraceSerializer.serializeRequest;
    const poster = exporter.poster;
    const post = poster.post.bind(poster);
    poster.post = (target, body, contentType) =>
      post(
        target,
        body,
        target.url.endsWith('/v1/traces') ? 'application/x-protobuf' : contentType,
      );
  }
}

const carriers = Array.from({ length: 256 }, () => ({
  traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  'tasklens-enqueued-at': String(Date.now()),
}));
const handler = () => undefined;

/** Runs `tasks` tasks in deliveries of DELIVERY, paced to RATE tasks/s. */
async function work(tasks) {
  const started = performance.now();
  for (let done = 0; done < tasks; done += DELIVERY) {
    const due = started + (done / RATE) * 1000;
    const wait = due - performance.now();
    await new Promise((resolve) => (wait > 1 ? setTimeout(resolve, wait) : setImmediate(resolve)));
    const delivery = [];
    for (let index = done; index < done + DELIVERY; index += 1) {
      delivery.push(
        runTaskAttempt(
          {
            name: 'send-email',
            queue: 'emails',
            system: 'bench',
            attempt: 1,
            id: String(index),
            carrier: carriers[index % carriers.length],
          },
          handler,
        ),
      );
    }
    await Promise.all(delivery);
  }
}

async function worker(variant) {
  const telemetry = startTelemetry({
    serviceName: 'tasklens-bench-pipeline',
    handleSignals: false,
    metricExportIntervalMs: 1_000,
    strict: true,
  });
  patchExporter(variant);
  await work(WARMUP_TASKS);
  await telemetry.forceFlush();
  const mainBefore = mainThreadCpuMicros();
  const processBefore = process.cpuUsage();
  const started = performance.now();
  await work(TASKS);
  await telemetry.forceFlush();
  const seconds = (performance.now() - started) / 1000;
  const processCpu = process.cpuUsage(processBefore);
  const mainCpu = mainThreadCpuMicros() - mainBefore;
  await telemetry.shutdown();
  process.stdout.write(
    JSON.stringify({
      spans: WARMUP_TASKS + TASKS,
      mainCpuPerTask: mainCpu / TASKS,
      processCpuPerTask: (processCpu.user + processCpu.system) / TASKS,
      seconds,
    }),
  );
}

// ---- the benchmark -----------------------------------------------------------------------------

/** Spans the collector's OTLP receiver accepted so far, from its own metrics. */
async function acceptedSpans(telemetryPort) {
  const response = await fetch(`http://127.0.0.1:${telemetryPort}/metrics`);
  const text = await response.text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^otelcol_receiver_accepted_spans(?:_total)?\{[^}]*\} ([0-9.e+]+)$/.exec(line);
    if (match) total += Number(match[1]);
  }
  return total;
}

/** Starts the stack, runs the workers in alternating rounds, prints the tables. */
export async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-pipeline-stack-'));
  const spoolDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-pipeline-spool-'));
  const stack = await startStack({ stateDir, ports: stackPortsFrom(PORT_BASE) });
  const names = Object.keys(VARIANTS);
  const lost = [];
  try {
    const samples = await runRounds(names, REPETITIONS, async (variant, round) => {
      const before = await acceptedSpans(stack.ports.collectorTelemetry);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [fileURLToPath(import.meta.url), '--worker', variant],
        {
          env: {
            ...process.env,
            OTEL_EXPORTER_OTLP_ENDPOINT: stack.endpoints.otlpHttp,
            TASKLENS_SPOOL_DIR: spoolDir,
          },
        },
      );
      const result = JSON.parse(stdout);
      const accepted = (await acceptedSpans(stack.ports.collectorTelemetry)) - before;
      const expected = variant === 'noop' ? 0 : result.spans;
      if (accepted !== expected) {
        lost.push(`${VARIANTS[variant]}, round ${round}: ${accepted} of ${expected} spans`);
      }
      return result;
    });
    const pick = (field) =>
      names.map((name) => ({
        name: VARIANTS[name],
        samples: samples[name].map((sample) => sample[field]),
      }));
    const title = `${TASKS} tasks at ${RATE}/s in deliveries of ${DELIVERY}, ${REPETITIONS} rounds`;
    printRoundsTable(
      `Worker main-thread CPU per task: ${title}`,
      'µs/task',
      pick('mainCpuPerTask'),
      {
        baseline: VARIANTS.noop,
        higherIsBetter: false,
      },
    );
    printRoundsTable(
      `Worker process CPU per task (all threads): ${title}`,
      'µs/task',
      pick('processCpuPerTask'),
      { baseline: VARIANTS.noop, higherIsBetter: false },
    );
    const exportCost = {};
    for (const name of ['json', 'protobuf']) {
      const differences = samples[name].map(
        (sample, round) => sample.mainCpuPerTask - samples.noop[round].mainCpuPerTask,
      );
      exportCost[name] = median(differences);
      console.log(
        `export path, ${VARIANTS[name]}: ${formatNumber(exportCost[name])} µs of main-thread CPU ` +
          `per span (median of per-round differences to the no-op export; ` +
          `${formatNumber(Math.min(...differences))}–${formatNumber(Math.max(...differences))})`,
      );
    }
    console.log(
      lost.length === 0
        ? 'the collector accepted every span of the JSON and protobuf workers'
        : `spans missing at the collector: ${lost.join('; ')}`,
    );
    return { exportCost, lost };
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--worker') await worker(process.argv[3]);
  else await main();
}
