/*
 * Queue depth end to end on the real binaries and brokers: an instrumented producer process
 * enqueues tasks with no worker running; its queue depth gauges go through the collector to
 * Prometheus, where the recording rules and `tasklens stats` read N waiting (and a growing oldest
 * waiting age where the broker tells it), and TaskQueueBacklog reaches Alertmanager and a webhook
 * of this test. Then a worker process starts, drains the queue, and the gauges return to 0.
 *
 * Test-only settings, as in alerts-end-to-end.integration.test.ts: Prometheus scrapes and
 * evaluates every second, Alertmanager groups with 1s delays, the processes export (and poll the
 * depth) every second, and Prometheus loads a copy of the shipped rules whose `for:` durations
 * are cut to TEST_FOR_DURATION; every expression, label and threshold is the shipped one.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { eventually, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { PrometheusClient } from '../src/prometheus-client.js';
import { queueRowQueries } from '../src/task-queries/collect.js';
import type { TaskRow } from '../src/console/api-types.js';
import { startAlertWebhook } from './support/alert-webhook.js';
import { BROKER_CHECKS } from './support/broker-reachable.js';
import type { AlertWebhook } from './support/alert-webhook.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/tasklens.js', import.meta.url));
const RULES_DIR = fileURLToPath(new URL('../../../deploy/prometheus/rules/', import.meta.url));
const SUFFIX = randomBytes(4).toString('hex');
/** Tasks each producer enqueues while no worker runs. */
const JOBS = 20;
/** Replaces every `for:` duration of the shipped alerts in the test's copy. */
const TEST_FOR_DURATION = '2s';
/** How long a number may take to reach Prometheus, or an alert the webhook. */
const LIMIT_MS = 90_000;

// Below the ephemeral port range, apart from the other test files' stacks.
const PORTS = testStackPorts(25200);

interface Broker {
  /** The fixtures' BROKER. */
  name: string;
  /** messaging.system, the gauges' messaging_system label. */
  system: string;
  /** Whether the broker tells the age of the oldest waiting task. */
  reportsAge: boolean;
  /** Fails with how to start the broker when it is not there. */
  require: () => Promise<void>;
}

const BROKERS: Broker[] = [
  { name: 'bullmq', system: 'bullmq', reportsAge: true, require: BROKER_CHECKS.bullmq },
  { name: 'rabbitmq', system: 'rabbitmq', reportsAge: false, require: BROKER_CHECKS.rabbitmq },
  { name: 'nats', system: 'nats', reportsAge: true, require: BROKER_CHECKS.nats },
];

let stack: RunningStack;
let stateDir: string;
let webhook: AlertWebhook;
let client: PrometheusClient;
/** Fixture processes not exited yet: stopped after the tests, whatever their outcome. */
const running = new Set<NodeProcess>();

/** A copy of the shipped rules in which every `for:` is TEST_FOR_DURATION; nothing else changes. */
async function writeTestRules(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  let shortened = 0;
  for (const file of (await readdir(RULES_DIR)).filter((name) => name.endsWith('.yml'))) {
    const text = (await readFile(join(RULES_DIR, file), 'utf8')).replace(
      /^(\s+for: )\S+$/gm,
      (_line, prefix: string) => {
        shortened++;
        return `${prefix}${TEST_FOR_DURATION}`;
      },
    );
    await writeFile(join(dir, file), text);
  }
  expect(shortened, 'for: durations found in the shipped rules').toBeGreaterThan(0);
}

function startFixture(
  script: string,
  env: Record<string, string>,
  onLine?: (line: string) => void,
): NodeProcess {
  const started = startNodeProcess([join(FIXTURES, script)], stack.endpoints.otlpHttp, env, onLine);
  running.add(started);
  void started.exited.then(() => running.delete(started));
  return started;
}

/** The value of an instant query's single series, or undefined while it has none. */
async function single(expression: string): Promise<number | undefined> {
  const samples = await client.query(expression);
  return samples.length === 1 ? samples[0]?.value : undefined;
}

/** What the built CLI's `tasklens stats` prints, with `extra` arguments. */
async function stats(...extra: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    CLI,
    'stats',
    '--prometheus-url',
    stack.endpoints.prometheus,
    ...extra,
  ]);
  return stdout;
}

/** The rows `tasklens stats --json` prints for this queue. */
async function statsRows(queue: string, system: string): Promise<TaskRow[]> {
  return (JSON.parse(await stats('--json')) as TaskRow[]).filter(
    (row) => row.queue === queue && row.system === system,
  );
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-queue-depth-e2e-'));
  const rulesDir = join(stateDir, 'test-rules');
  await writeTestRules(rulesDir);
  stack = await startStack({
    stateDir,
    ports: PORTS,
    alertWebhookUrl: (webhook = await startAlertWebhook()).url,
    alertGroupWait: '1s',
    alertGroupInterval: '1s',
    evaluationInterval: '1s',
    rulesDir,
  });
  client = new PrometheusClient(stack.endpoints.prometheus);
}, 120_000);

afterAll(async () => {
  for (const started of running) started.child.kill('SIGTERM');
  await Promise.all([...running].map((started) => started.exited));
  await stack?.stop();
  await webhook?.close();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

describe.each(BROKERS)('queue depth of $name: gauges → Prometheus → TaskQueueBacklog', (broker) => {
  it(`reads ${JOBS} waiting with no worker, alerts, and reads 0 once a worker drains the queue`, async () => {
    await broker.require();
    const queue = `queue-depth-e2e-${broker.name}-${SUFFIX}`;
    // Also the JetStream stream's name (no dots), for all three brokers alike.
    const env = { BROKER: broker.name, QUEUE: queue, TASK: `import-${broker.name}` };
    const queries = queueRowQueries({ queue, system: broker.system });
    const startedAt = Date.now();

    let enqueued = false;
    const producer = startFixture(
      'queue-depth-producer.mjs',
      { ...env, JOBS: String(JOBS) },
      () => {
        enqueued = true;
      },
    );
    const waiting = await eventually(
      `${JOBS} waiting in ${queue} in Prometheus (${queries.waiting})`,
      async () => (enqueued && (await single(queries.waiting)) === JOBS ? JOBS : undefined),
      LIMIT_MS,
    );
    expect(waiting).toBe(JOBS);
    const recorded = await eventually(
      'the recording rule of the waiting tasks',
      async () => {
        const value = await single(
          `task_queue:task_queue_waiting:max{task_queue="${queue}", messaging_system="${broker.system}"}`,
        );
        return value === JOBS ? value : undefined;
      },
      LIMIT_MS,
    );
    expect(recorded).toBe(JOBS);

    if (broker.reportsAge) {
      const first = await eventually(
        'an oldest waiting age above 0',
        async () => {
          const age = await single(queries.oldestWaitingAgeSeconds);
          return age !== undefined && age > 0 ? age : undefined;
        },
        LIMIT_MS,
      );
      const later = await eventually(
        'the oldest waiting age growing',
        async () => {
          const age = await single(queries.oldestWaitingAgeSeconds);
          return age !== undefined && age > first ? age : undefined;
        },
        LIMIT_MS,
      );
      expect(later).toBeGreaterThan(first);
    }

    // `tasklens stats --json`: the queue has no attempts yet, so a row of its own.
    const rows = await statsRows(queue, broker.system);
    expect(rows).toMatchObject([{ service: '', task: '', runs: null, waiting: JOBS }]);
    if (!broker.reportsAge) expect(rows[0]?.oldestWaitingAgeSeconds).toBeNull();
    const table = (await stats()).split('\n');
    expect(table[0]).toMatch(/ WAITING +OLDEST WAITING$/);
    // The queue's line ends with its waiting tasks and the oldest one's age ('-' if none).
    expect(table.find((line) => line.includes(queue))).toMatch(new RegExp(` ${JOBS} +\\S+$`));

    const { alert, receivedAt } = await webhook.awaitAlert(
      'TaskQueueBacklog',
      { alertname: 'TaskQueueBacklog', task_queue: queue, messaging_system: broker.system },
      LIMIT_MS,
    );
    expect(alert.labels.severity).toBe('warning');
    // The value is the depth when the alert fired: after the producer's first half (its oldest
    // task already older than the test threshold) or after all of it.
    const summary = new RegExp(
      `^Queue ${queue} \\(${broker.system}\\) has (\\d+) waiting tasks and is not making progress$`,
    ).exec(alert.annotations.summary ?? '');
    expect(summary, alert.annotations.summary).not.toBeNull();
    expect([Math.floor(JOBS / 2), JOBS]).toContain(Number(summary?.[1]));
    expect(alert.annotations.runbook).toContain('tasklens stats');

    let done = 0;
    const worker = startFixture('queue-depth-worker.mjs', env, () => done++);
    await eventually(
      `0 waiting in ${queue} once the worker ran all ${JOBS}`,
      async () => (done >= JOBS && (await single(queries.waiting)) === 0 ? true : undefined),
      LIMIT_MS,
    );
    if (broker.reportsAge) {
      await eventually(
        'the oldest waiting age back to 0',
        async () => ((await single(queries.oldestWaitingAgeSeconds)) === 0 ? true : undefined),
        LIMIT_MS,
      );
    }
    const drainedAt = Date.now();
    // The worker's attempts and the queue's 0 on the same stats row.
    const row = await eventually(
      `tasklens stats: ${JOBS} runs and 0 waiting for ${queue}`,
      async () => {
        const [found] = await statsRows(queue, broker.system);
        return found?.runs === JOBS && found.waiting === 0 ? found : undefined;
      },
      LIMIT_MS,
    );
    expect(row.task).not.toBe('');

    worker.child.kill('SIGTERM');
    producer.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await producer.exited).toBe(0);
    expect(done).toBe(JOBS);
    console.log(
      `${broker.name}: ${JOBS} waiting read from Prometheus, TaskQueueBacklog at the webhook ` +
        `${receivedAt - startedAt} ms after the producer started, drained to 0 ` +
        `${drainedAt - receivedAt} ms after the alert (for: ${TEST_FOR_DURATION}, 1s evaluation, ` +
        `1s polls; measured ${new Date().toISOString()})`,
    );
  }, 180_000);
});
