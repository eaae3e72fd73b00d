/*
 * The alerts end to end on the real binaries: task telemetry → collector → Prometheus (the
 * shipped recording rules and alerts) → Alertmanager (the shipped routing) → a webhook, here an
 * HTTP server of this test.
 *
 * Test-only settings, all through startStack options: Prometheus scrapes and evaluates every
 * second, Alertmanager groups with 1s delays, and Prometheus loads a copy of the shipped rules
 * whose `for:` durations (minutes) are cut to TEST_FOR_DURATION, so an alert fires within
 * seconds; every expression, label and threshold is the shipped one. Per-task thresholds come
 * from an extra rules file, the override mechanism tasklens-thresholds.yml documents.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { eventually, requireRedis, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { startAlertWebhook } from './support/alert-webhook.js';
import type { AlertWebhook, WebhookAlert } from './support/alert-webhook.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/tasklens.js', import.meta.url));
const RULES_DIR = fileURLToPath(new URL('../../../deploy/prometheus/rules/', import.meta.url));
const SUFFIX = randomBytes(4).toString('hex');
const QUEUE = `alerts-e2e-${SUFFIX}`;
const FAILING_TASK = `sync-inventory-${SUFFIX}`;
const MISSED_TASK = `nightly-backup-${SUFFIX}`;
/** A scheduled task whose one run fails: TaskRunFailed. */
const FAILED_RUN_TASK = `nightly-export-${SUFFIX}`;
/** Expected interval of MISSED_TASK, in seconds (its per-task threshold). */
const MISSED_TASK_INTERVAL = 5;
/** Failing attempts sent: well above tasklens:failure_ratio_min_attempts:default (10). */
const FAILING_JOBS = 30;
/** Replaces every `for:` duration of the shipped alerts in the test's copy. */
const TEST_FOR_DURATION = '2s';
/** How long an alert may take to reach the webhook before the test fails. */
const ALERT_LIMIT_MS = 90_000;

// Below the ephemeral port range, apart from the other test files' stacks.
const PORTS = testStackPorts(21300);

let stack: RunningStack;
let stateDir: string;
let webhook: AlertWebhook;

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

/** Per-task thresholds of this test, in a file of its own (tasklens-thresholds.yml's mechanism). */
async function writeTestThresholds(file: string): Promise<void> {
  await writeFile(
    file,
    [
      'groups:',
      '  - name: alerts-end-to-end-thresholds',
      '    rules:',
      '      - record: tasklens:expected_interval_seconds:threshold',
      `        expr: vector(${MISSED_TASK_INTERVAL})`,
      '        labels:',
      `          task_name: ${MISSED_TASK}`,
      '      - record: tasklens:expected_interval_seconds:threshold',
      '        expr: vector(86400)',
      '        labels:',
      `          task_name: ${FAILED_RUN_TASK}`,
      '',
    ].join('\n'),
  );
}

function startProcess(
  args: string[],
  env: Record<string, string>,
  onLine?: (line: string) => void,
): NodeProcess {
  return startNodeProcess(args, stack.endpoints.otlpHttp, env, onLine);
}

/** The first firing alert that reached the webhook with these labels, and when it arrived. */
function awaitAlert(
  what: string,
  labels: Record<string, string>,
): Promise<{ alert: WebhookAlert; receivedAt: number }> {
  return webhook.awaitAlert(what, labels, ALERT_LIMIT_MS);
}

beforeAll(async () => {
  await requireRedis();
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-alerts-e2e-'));
  const rulesDir = join(stateDir, 'test-rules');
  const thresholds = join(stateDir, 'test-thresholds.yml');
  await writeTestRules(rulesDir);
  await writeTestThresholds(thresholds);
  stack = await startStack({
    stateDir,
    ports: PORTS,
    alertWebhookUrl: (webhook = await startAlertWebhook()).url,
    alertGroupWait: '1s',
    alertGroupInterval: '1s',
    evaluationInterval: '1s',
    rulesDir,
    extraRuleFiles: [thresholds],
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await webhook?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('task telemetry → Prometheus alerts → Alertmanager → webhook', () => {
  it('notifies TaskFailureRatioHigh (critical) for a task whose attempts fail', async () => {
    const failedAt: number[] = [];
    const worker = startProcess([join(FIXTURES, 'alerts-worker.mjs')], { QUEUE }, (line) =>
      failedAt.push((JSON.parse(line) as { endedAt: number }).endedAt),
    );
    const producer = startProcess([join(FIXTURES, 'alerts-producer.mjs')], {
      QUEUE,
      TASK: FAILING_TASK,
      JOBS: String(FAILING_JOBS),
    });
    expect(await producer.exited).toBe(0);

    const { alert, receivedAt } = await awaitAlert('TaskFailureRatioHigh', {
      alertname: 'TaskFailureRatioHigh',
      task_name: FAILING_TASK,
      severity: 'critical',
    });
    expect(alert.labels).toMatchObject({
      job: 'alerts-e2e-worker',
      task_queue: QUEUE,
    });
    expect(alert.annotations.summary).toBe(`Task ${FAILING_TASK} fails 100% of its attempts`);
    expect(alert.annotations.jaeger_search).toContain('service=alerts-e2e-worker');

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(failedAt.length).toBe(FAILING_JOBS);
    console.log(
      `TaskFailureRatioHigh: first failed attempt → webhook after ${receivedAt - Math.min(...failedAt)} ms, ` +
        `last failed attempt → webhook after ${receivedAt - Math.max(...failedAt)} ms ` +
        `(for: ${TEST_FOR_DURATION}, 1s evaluation, group_wait 1s; measured ${new Date().toISOString()})`,
    );
  }, 150_000);

  it('notifies TaskMissedRun once a task with an expected interval stops succeeding', async () => {
    const run = startProcess(
      [CLI, 'run', '--task', MISSED_TASK, '--service', 'alerts-e2e-cron', '--', 'true'],
      {},
    );
    const exitCode = await run.exited;
    expect(exitCode, `tasklens run (${CLI}; build with npm run build)`).toBe(0);
    const succeededAt = Date.now();

    // The success reached Prometheus; the alert below is about that run going stale.
    await eventually('the success of the run in Prometheus', async () => {
      const url = new URL('/api/v1/query', stack.endpoints.prometheus);
      url.searchParams.set(
        'query',
        `task:task_last_success_seconds:max{task_name="${MISSED_TASK}"}`,
      );
      const body = (await (await fetch(url)).json()) as { data: { result: unknown[] } };
      return body.data.result.length > 0 ? true : undefined;
    });

    // With a job label: the branch of tasks that reported a success (the branch for tasks that
    // never did has no job label).
    const { alert, receivedAt } = await awaitAlert('TaskMissedRun', {
      alertname: 'TaskMissedRun',
      task_name: MISSED_TASK,
      job: 'alerts-e2e-cron',
      severity: 'critical',
    });
    expect(alert.annotations.summary).toMatch(
      new RegExp(`^Task ${MISSED_TASK} has not succeeded for [\\d.]+s$`),
    );
    console.log(
      `TaskMissedRun: successful run → webhook after ${receivedAt - succeededAt} ms with an ` +
        `expected interval of ${MISSED_TASK_INTERVAL} s (1s evaluation, group_wait 1s; measured ` +
        `${new Date().toISOString()})`,
    );
  }, 150_000);

  it('notifies TaskRunFailed for a single failed run of a scheduled task', async () => {
    const run = startProcess(
      [
        CLI,
        'run',
        '--task',
        FAILED_RUN_TASK,
        '--service',
        'alerts-e2e-cron',
        '--',
        'sh',
        '-c',
        'exit 4',
      ],
      {},
    );
    expect(await run.exited).toBe(4);
    const failedAt = Date.now();
    const { alert, receivedAt } = await awaitAlert('TaskRunFailed', {
      alertname: 'TaskRunFailed',
      task_name: FAILED_RUN_TASK,
      job: 'alerts-e2e-cron',
      severity: 'warning',
    });
    expect(alert.annotations.summary).toBe(
      `Scheduled task ${FAILED_RUN_TASK} failed 1 time(s) in the last 10 minutes`,
    );
    console.log(
      `TaskRunFailed: failed run → webhook after ${receivedAt - failedAt} ms (1s evaluation, ` +
        `group_wait 1s; measured ${new Date().toISOString()})`,
    );
  }, 150_000);
});
