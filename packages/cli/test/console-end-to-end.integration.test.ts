/*
 * The task console in a real browser, on the real native stack: `startStack` runs the console as
 * `tasklens stack up` does; a BullMQ producer and worker send traces and metrics through the
 * collector. A user opens the console, finds the failing task, opens its failure group and its
 * trace and reads the exception; the numbers on the pages equal `tasklens stats --json` and
 * `tasklens failures --json`. Hostile task names and messages render as text; no script runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import {
  closedPort,
  eventually,
  launchBrowser,
  requireRedis,
  startNodeProcess,
} from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import type { TaskFailure } from '../src/jaeger-failures.js';
import type { TaskRow } from '../src/console/api-types.js';
import { startConsoleServer } from '../src/console/console-server.js';
import { runCli } from './support/cli-process.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TASKLENS = fileURLToPath(new URL('../dist/tasklens.js', import.meta.url));
const PAGE = fileURLToPath(new URL('../dist/console-page/', import.meta.url));
/** Where the pages' screenshots go (git-ignored); the README's come from here. */
const SCREENSHOTS = fileURLToPath(new URL('../../../.tasklens/screenshots/', import.meta.url));
const QUEUE = `console-${randomBytes(4).toString('hex')}`;
const PORTS = testStackPorts(23100);

// A task name and a message that would run script if any of them reached the page as HTML.
const HOSTILE_NAME = `<img src=x onerror="window.__pwned=1">\u202Egnp.exe\u200B</script><b>x`;
const HOSTILE_MESSAGE = `</script><script>window.__pwned=2</script>${'A'.repeat(100_000)}`;

let stack: RunningStack;
let stateDir: string;
let browser: Browser;
let worker: NodeProcess;
const settled: { name: string; outcome: string }[] = [];

async function cliJson<T>(args: string[]): Promise<T> {
  const run = await runCli([...args, '--json', '--state-dir', stateDir]);
  if (run.code !== 0) throw new Error(`tasklens ${args.join(' ')}: ${run.code} ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A new page that records every dialog, page error and CSP report. */
async function newPage(): Promise<{ page: Page; incidents: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const incidents: string[] = [];
  page.on('dialog', (dialog) => {
    incidents.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => incidents.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') incidents.push(`console error: ${message.text()}`);
  });
  return { page, incidents };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

beforeAll(async () => {
  await requireRedis();
  browser = await launchBrowser();
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-console-'));
  stack = await startStack({
    stateDir,
    ports: PORTS,
    evaluationInterval: '1s',
    console: { script: TASKLENS },
  });
  worker = startNodeProcess(
    [join(FIXTURES, 'bridge-worker.mjs')],
    stack.endpoints.otlpHttp,
    { QUEUE, HOSTILE_NAME, HOSTILE_MESSAGE },
    (line) => settled.push(JSON.parse(line) as { name: string; outcome: string }),
  );
  const producer = startNodeProcess(
    [join(FIXTURES, 'bridge-producer.mjs')],
    stack.endpoints.otlpHttp,
    { QUEUE, HOSTILE_NAME },
  );
  expect(await producer.exited).toBe(0);
  await eventually('the worker settling 4 attempts', () =>
    Promise.resolve(settled.length >= 4 ? true : undefined),
  );
  // Every attempt in Prometheus and every failure in Jaeger before the pages are compared.
  await eventually('the attempts in Prometheus', async () => {
    const rows = await cliJson<TaskRow[]>(['stats', '--since', '1h']);
    const runs = rows.filter((row) => row.queue === QUEUE).map((row) => row.runs ?? 0);
    return runs.reduce((sum, value) => sum + value, 0) === 4 ? true : undefined;
  });
  await eventually('the failures in Jaeger', async () => {
    const failures = await cliJson<TaskFailure[]>(['failures', '--since', '1h', '--limit', '100']);
    return failures.filter((failure) => failure.queue === QUEUE).length === 3 ? true : undefined;
  });
}, 180_000);

afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited;
  await browser?.close();
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe('the task console on the native stack', () => {
  it('is one of the stack components, and tasklens failures links to its trace pages', async () => {
    expect(stack.endpoints.console).toBe(`http://127.0.0.1:${PORTS.console}`);
    const failures = await cliJson<TaskFailure[]>(['failures', '--since', '1h']);
    const failure = failures.find((candidate) => candidate.task === 'charge-card');
    expect(failure?.url).toBe(`${stack.endpoints.console}/traces/${failure?.traceId}`);
  });

  it('shows each task with the numbers tasklens stats prints', async () => {
    const { page, incidents } = await newPage();
    await page.goto(`${stack.endpoints.console}/?range=1h`);
    const rows = page.getByTestId('task-row');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    const stats = await cliJson<TaskRow[]>(['stats', '--since', '1h']);
    for (const task of ['charge-card', 'resize-image']) {
      const expected = stats.find((row) => row.task === task && row.queue === QUEUE);
      expect(expected, task).toBeDefined();
      const row = page.locator(`[data-testid="task-row"][data-task="${task}"]`);
      for (const field of [
        'runs',
        'failurePercent',
        'p50DurationSeconds',
        'p95DurationSeconds',
        'p95WaitSeconds',
      ] as const) {
        const shown = await row.locator(`[data-field="${field}"]`).getAttribute('data-value');
        const value = expected?.[field] ?? null;
        expect(shown === '' ? null : Number(shown), `${task} ${field}`).toBe(value);
      }
    }
    await screenshot(page, 'tasks');
    expect(incidents).toEqual([]);
    await page.close();
  });

  it('goes from the failing task to its failure group, its trace and the exception', async () => {
    const { page, incidents } = await newPage();
    await page.goto(`${stack.endpoints.console}/?range=1h`);
    const row = page.locator('[data-testid="task-row"][data-task="charge-card"]');
    await row.getByRole('link', { name: /failures/i }).click();
    await page.waitForURL(/\/failures\?/);
    const group = page.locator(
      '[data-testid="failure-group"][data-task="charge-card"][data-error-type="PaymentDeclinedError"]',
    );
    await expect.poll(() => group.count(), { timeout: 15_000 }).toBe(1);

    const failures = await cliJson<TaskFailure[]>(['failures', '--since', '1h', '--limit', '100']);
    const declined = failures.filter(
      (failure) => failure.task === 'charge-card' && failure.errorType === 'PaymentDeclinedError',
    );
    expect(declined).toHaveLength(2);
    const count = await group.locator('[data-field="count"]').getAttribute('data-value');
    expect(Number(count)).toBe(declined.length);
    await expect
      .poll(() => group.textContent(), { timeout: 15_000 })
      .toContain('card declined by issuer');
    await screenshot(page, 'failures');

    await group.getByTestId('latest-trace').click();
    await page.waitForURL(/\/traces\/[0-9a-f]{32}$/);
    const traceId = page.url().split('/').pop();
    expect(declined.map((failure) => failure.traceId)).toContain(traceId);
    const spans = page.getByTestId('span-row');
    // The send and both attempts, across the producer's and the worker's processes.
    await expect.poll(() => spans.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    await expect
      .poll(() => page.getByTestId('exception-message').first().textContent())
      .toContain('card declined by issuer');
    await screenshot(page, 'trace');
    expect(incidents).toEqual([]);
    await page.close();
  });

  it('renders hostile task names and messages as text, and runs no script of theirs', async () => {
    const { page, incidents } = await newPage();
    await page.goto(`${stack.endpoints.console}/failures?range=1h`);
    const group = page.locator('[data-testid="failure-group"]').filter({ hasText: 'gnp.exe' });
    await expect.poll(() => group.count(), { timeout: 15_000 }).toBe(1);
    expect(await group.getAttribute('data-task')).toBe(HOSTILE_NAME);
    await group.getByTestId('latest-trace').click();
    await page.waitForURL(/\/traces\//);
    const message = page.getByTestId('exception-message').first();
    // What Jaeger's index takes of it: the collector cuts every value to 8192 bytes
    // (otel-collector.yaml, transform/bounded).
    const bounded = HOSTILE_MESSAGE.slice(0, 8192);
    await expect.poll(() => message.textContent(), { timeout: 15_000 }).toBe(bounded);
    expect(await page.locator('img, script:not([src])').count()).toBe(0);
    const failures = await cliJson<TaskFailure[]>(['failures', '--task', HOSTILE_NAME]);
    expect(failures[0]?.message).toBe(bounded);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(incidents).toEqual([]);
    await page.close();
  });

  it('says when Jaeger does not hold a trace', async () => {
    const { page } = await newPage();
    await page.goto(`${stack.endpoints.console}/traces/${'0'.repeat(31)}1`);
    await expect
      .poll(() => page.getByTestId('page-problem').textContent(), { timeout: 15_000 })
      .toMatch(/does not hold trace/);
    await page.close();
  });

  it('shows what Alertmanager holds, with a link to the task', async () => {
    // An alert as Prometheus sends it: the rules firing is the alerts end-to-end test's concern.
    const response = await fetch(`${stack.endpoints.alertmanager}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: {
            alertname: 'TaskRunFailed',
            severity: 'critical',
            job: 'e2e-worker',
            task_name: 'charge-card',
            task_queue: QUEUE,
          },
          annotations: { summary: 'Task charge-card fails 100% of its attempts' },
        },
      ]),
    });
    expect(response.status).toBe(200);
    const { page, incidents } = await newPage();
    await page.goto(`${stack.endpoints.console}/alerts`);
    const alerts = page.getByTestId('alerts-table');
    await expect
      .poll(() => alerts.textContent(), { timeout: 15_000 })
      .toContain('Task charge-card fails 100% of its attempts');
    const link = alerts.getByRole('link', { name: 'charge-card' });
    expect(await link.getAttribute('href')).toMatch(/^\/failures\?.*task=charge-card/);
    await screenshot(page, 'alerts');
    expect(incidents).toEqual([]);
    await page.close();
  });

  it('names a backend that is down with how to start it, and keeps the other pages working', async () => {
    const alertmanager = `http://127.0.0.1:${await closedPort()}`;
    const partial = await startConsoleServer({
      host: '127.0.0.1',
      port: 0,
      assetsDir: PAGE,
      backends: {
        prometheus: stack.endpoints.prometheus,
        jaeger: stack.endpoints.jaegerQuery,
        alertmanager,
      },
    });
    try {
      const { page } = await newPage();
      await page.goto(`${partial.url}/alerts`);
      const problem = page.getByTestId('page-problem');
      await expect.poll(() => problem.textContent(), { timeout: 15_000 }).toContain(alertmanager);
      expect(await problem.textContent()).toContain('tasklens stack up');
      const banner = page.getByTestId('backend-problem');
      await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toMatch(/Alertmanager/);
      expect(await banner.textContent()).not.toMatch(/Prometheus|Jaeger/);
      await page.getByTestId('nav-tasks').click();
      const rows = page.locator(`[data-testid="task-row"][data-queue="${QUEUE}"]`);
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3);
      await page.close();
    } finally {
      await partial.close();
    }
  });
});
