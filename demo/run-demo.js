// `npm run demo`: tasks through a real queue, visible in the task console, Jaeger and Prometheus.
// Starts the native stack (collector, Prometheus, Alertmanager, Jaeger and the console on
// 127.0.0.1) unless it already runs, a worker and a producer process on BullMQ/Redis with quick,
// slow, retried and failing tasks, waits until the telemetry has arrived, then shows the failing
// tasks and per-task stats the way an on-call engineer would look them up, and where the console
// shows them.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { main as tasklens } from '@tasklens/cli';
import { defaultStateDir, startStack, stackStatus } from '@tasklens/stack';
import { connection, QUEUE } from './tasks.js';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const step = (text) => console.log(`\n== ${text}`);

async function ensureStack() {
  const status = await stackStatus(defaultStateDir());
  if (status.recorded && status.components.every((component) => component.ready)) {
    console.log('the native stack is already running');
    return status.endpoints;
  }
  const stack = await startStack({ console: { script: here('../packages/cli/dist/tasklens.js') } });
  return stack.endpoints;
}

/** Starts a demo process; its output is shown, and kept for reading the worker's totals. */
function startNode(script, env) {
  const child = spawn(process.execPath, [here(script)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitUntilDrained(queue) {
  for (let waited = 0; waited < 120_000; waited += 500) {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (Object.values(counts).every((count) => count === 0)) return;
    await sleep(500);
  }
  throw new Error(`the demo queue ${QUEUE} did not drain within 2 minutes`);
}

async function waitFor(what, check) {
  const started = Date.now();
  while (Date.now() - started < 30_000) {
    if (await check()) return console.log(`${what}: visible after ${Date.now() - started} ms`);
    await sleep(500);
  }
  throw new Error(`${what} did not show up within 30 s`);
}

async function main() {
  step('starting the native stack (collector, Prometheus, Alertmanager, Jaeger, console)');
  const endpoints = await ensureStack();
  const telemetryEnv = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.otlpHttp,
    OTEL_METRIC_EXPORT_INTERVAL: '2000',
  };

  const queue = new Queue(QUEUE, { connection });
  await queue.obliterate({ force: true });

  step('worker and producer on BullMQ (Redis 127.0.0.1:6379)');
  const workerInstance = `demo-worker-${randomUUID()}`;
  const worker = startNode('./worker.js', {
    ...telemetryEnv,
    OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${workerInstance}`,
  });
  const producer = startNode('./producer.js', telemetryEnv);
  if ((await producer.exited) !== 0) throw new Error('the demo producer failed');
  await waitUntilDrained(queue);
  await queue.close();
  worker.child.kill('SIGTERM');
  await worker.exited;

  step('waiting for the telemetry to reach Jaeger and Prometheus');
  const silent = { stdout: () => undefined, stderr: () => undefined };
  const jaegerUrl = endpoints.jaegerQuery;
  const prometheusUrl = endpoints.prometheus;
  await waitFor('failed charge-card spans in Jaeger', async () => {
    let found = [];
    await tasklens(
      ['failures', '--task', 'charge-card', '--since', '15m', '--json', '--jaeger-url', jaegerUrl],
      {
        ...silent,
        stdout: (text) => (found = JSON.parse(text)),
      },
    );
    return found.length > 0;
  });
  const totals = /(\d+) attempts completed, (\d+) failed/.exec(worker.output());
  const attempts = totals === null ? 1 : Number(totals[1]) + Number(totals[2]);
  await waitFor(`all ${attempts} attempts in Prometheus`, async () => {
    const query = `sum(task_duration_seconds_count{instance="${workerInstance}"})`;
    const response = await fetch(
      `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`,
    );
    const body = await response.json();
    return Number(body.data?.result?.[0]?.value?.[1] ?? 0) >= attempts;
  });

  step('tasklens failures --since 15m');
  await tasklens(['failures', '--since', '15m', '--limit', '8', '--jaeger-url', jaegerUrl]);
  step('tasklens stats --since 15m');
  await tasklens(['stats', '--since', '15m', '--prometheus-url', prometheusUrl]);

  step('where to look');
  if (endpoints.console === undefined) {
    console.log('Console        not running with this stack: start it with `npx tasklens ui`');
  } else {
    console.log(`Console        ${endpoints.console}/`);
    console.log(`  failures     ${endpoints.console}/failures?range=15m`);
  }
  console.log(
    `Jaeger API     ${jaegerUrl}/api/traces?service=demo-worker&lookback=1h&tags=${encodeURIComponent('{"task.outcome":"failure"}')}`,
  );
  console.log(
    `Prometheus API ${prometheusUrl}/api/v1/query?query=${encodeURIComponent('sum by (task_name, task_outcome) (task_duration_seconds_count)')}`,
  );
  console.log('CLI            npx tasklens failures --since 1h   |   npx tasklens stats');
  console.log(
    'The stack keeps running for you to explore: stop it with `npx tasklens stack down`.',
  );
}

try {
  await main();
} catch (error) {
  console.error(`\ndemo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
