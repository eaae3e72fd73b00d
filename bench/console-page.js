// The task console (`tasklens ui`) in a real browser on the real native stack, with the load of
// issue 20: 200 tasks and 10 000 failed attempts in the range. Measured per page load of the
// tasks page (`/?range=1h`) and the failures page (`/failures?range=1h`):
//
//   first render   from navigation start (the page's time origin) to the first animation frame
//                  in which every row is in the DOM: `[data-testid="task-row"]` for each task,
//                  `[data-testid="failure-group"]` for each failure group
//   page weight    bytes the browser received (resource timing: HTML, JS, CSS, JSON)
//   backend calls  requests the console's server made to Prometheus, Jaeger and Alertmanager
//                  during the load (until the network was idle for 500 ms), counted by a proxy
//                  in front of each (bench/support/counting-proxy.js)
//
// The stack runs on ports from 24600 (evaluation interval 5 s), without its console component;
// the console runs apart as `node packages/cli/dist/tasklens.js ui` on this benchmark's Node,
// reading the backends through the proxies. The telemetry comes from worker processes
// (bench/support/console-telemetry.js: startTelemetry + runTask), one per service, run one after
// the other. It is loaded in two steps, measured after each: first 50 of the 200 tasks (2 500
// failures), then the other 150: the backend calls per page load must be the same at 50 and at
// 200 tasks (none per row). Four services each step: the failures page reads Jaeger once per
// service and failed outcome, so services (not rows) set its Jaeger count.
//
// Each browser context is new (nothing cached); the two pages alternate in rounds
// (support/rounds.js: one warm-up round, then BENCH_REPETITIONS, default 7). Chromium is
// Debian's (@tasklens/test-utils launchBrowser). Run after `npm run build`:
// node bench/console-page.js    (or BENCH_ONLY=console node bench/run-all.js [--node 24.22.3])
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stackPortsFrom, startStack } from '@tasklens/stack';
import { eventually, launchBrowser } from '@tasklens/test-utils';
import { startCountingProxy } from './support/counting-proxy.js';
import { formatRange, machineLine, median, printSpreadTable, target } from './support/report.js';
import { runRounds } from './support/rounds.js';

const PORT_BASE = 24_600;
/** Past the 35 ports stackPortsFrom takes. */
const CONSOLE_PORT = PORT_BASE + 40;
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 7);
const TASKLENS = fileURLToPath(new URL('../packages/cli/dist/tasklens.js', import.meta.url));
const GENERATOR = fileURLToPath(new URL('./support/console-telemetry.js', import.meta.url));
const BACKENDS = ['prometheus', 'jaeger', 'alertmanager'];

// ---- the load ----------------------------------------------------------------------------------

const TASKS = 200;
const FIRST_STEP_TASKS = 50;
const SUCCESSES_PER_TASK = 50;
const SERVICES = ['billing', 'mailer', 'media', 'reports'];
const VERBS = ['charge', 'send', 'resize', 'export', 'sync', 'index', 'notify', 'archive'];
const ERROR_TYPES = [
  'PaymentDeclinedError',
  'UpstreamUnavailableError',
  'InvalidPayloadError',
  'RateLimitedError',
  'StorageFullError',
];

/**
 * Task `index` of the 200: its service, name, queue and system (a third on BullMQ queues, a third
 * on RabbitMQ, a third in-process), 50 successes, and failed attempts of one to three error types:
 * 50 ± up to 40 per task, paired so that every 50 tasks hold 2 500 failures (10 000 in all).
 */
function taskPlan(index) {
  const service = SERVICES[index % SERVICES.length];
  const kind = index % 3;
  const skew = ((index - (index % 2)) * 7) % 41;
  const failed = index % 2 === 0 ? 50 + skew : 50 - skew;
  const types = 1 + (index % 3);
  const failures = {};
  for (let type = 0; type < types; type += 1) {
    const count = Math.floor(failed / types) + (type === 0 ? failed % types : 0);
    if (count > 0) failures[ERROR_TYPES[(index + type) % ERROR_TYPES.length]] = count;
  }
  return {
    service,
    name: `${VERBS[index % VERBS.length]}-${String(index).padStart(3, '0')}`,
    queue: kind === 0 ? `${service}-jobs` : kind === 1 ? `${service}-events` : '',
    system: kind === 0 ? 'bullmq' : kind === 1 ? 'rabbitmq' : '',
    successes: SUCCESSES_PER_TASK,
    failures,
  };
}

const ALL_TASKS = Array.from({ length: TASKS }, (_, index) => taskPlan(index));

/** What the tasks from 0 to `count` hold: tasks, attempts, failures and failure groups. */
function expectedFor(count) {
  const tasks = ALL_TASKS.slice(0, count);
  const failures = tasks.flatMap((task) => Object.values(task.failures));
  const failed = failures.reduce((sum, value) => sum + value, 0);
  return {
    tasks: tasks.length,
    attempts: failed + tasks.length * SUCCESSES_PER_TASK,
    failures: failed,
    groups: failures.length,
  };
}

/** Runs the workers of tasks `from` to `to`, one service after the other. */
async function generate(otlpEndpoint, spoolDir, from, to) {
  for (const service of SERVICES) {
    const tasks = ALL_TASKS.slice(from, to).filter((task) => task.service === service);
    await promisify(execFile)(process.execPath, [GENERATOR, JSON.stringify({ service, tasks })], {
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
        TASKLENS_SPOOL_DIR: spoolDir,
      },
    });
  }
}

async function prometheusValue(prometheusUrl, expression) {
  const response = await fetch(
    `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expression)}`,
  );
  const body = await response.json();
  return Number(body.data?.result?.[0]?.value?.[1] ?? 0);
}

/** Spans Jaeger's OTLP receiver accepted so far, from its own metrics. */
async function jaegerAcceptedSpans(telemetryPort) {
  const text = await (await fetch(`http://127.0.0.1:${telemetryPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^otelcol_receiver_accepted_spans(?:_total)?\{[^}]*\} ([0-9.e+]+)$/.exec(line);
    if (match) total += Number(match[1]);
  }
  return total;
}

/** Waits until Prometheus counts every attempt made so far and Jaeger has taken every span. */
async function waitForBackends(stack, expected) {
  const attempts = `sum(max_over_time(task_duration_seconds_count[1h]))`;
  await eventually(
    `Prometheus counting ${expected.attempts} attempts (${attempts})`,
    async () =>
      (await prometheusValue(stack.endpoints.prometheus, attempts)) >= expected.attempts
        ? true
        : undefined,
    180_000,
  );
  // Roughly: Jaeger's spans give the failures page its example traces only; a few missing ones
  // are reported, not a reason to stop.
  const deadline = Date.now() + 60_000;
  let spans = 0;
  while (Date.now() < deadline) {
    spans = await jaegerAcceptedSpans(stack.ports.jaegerTelemetry);
    if (spans >= expected.attempts) return;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  console.log(`Jaeger accepted ${spans} spans of ${expected.attempts} attempts after 60 s`);
}

// ---- the console and its backends --------------------------------------------------------------

/** CPU time (user + system) of process `pid` so far, in ms, from /proc. */
function processCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function startConsole(proxies) {
  const child = spawn(
    process.execPath,
    [
      TASKLENS,
      'ui',
      '--port',
      String(CONSOLE_PORT),
      '--prometheus-url',
      proxies.prometheus.url,
      '--jaeger-url',
      proxies.jaeger.url,
      '--alertmanager-url',
      proxies.alertmanager.url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${CONSOLE_PORT}`;
  try {
    await eventually('the console answering /healthz', async () => {
      if (child.exitCode !== null) throw new Error(`tasklens ui exited: ${output}`);
      return (await fetch(`${url}/healthz`)).ok ? true : undefined;
    });
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  return {
    url,
    pid: child.pid,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What the console's own API answers now, against what the workers made. */
async function checkApi(consoleUrl, expected) {
  const tasks = await (await fetch(`${consoleUrl}/api/tasks?range=1h`)).json();
  const failures = await (await fetch(`${consoleUrl}/api/failures?range=1h`)).json();
  const runs = tasks.tasks.reduce((sum, row) => sum + (row.runs ?? 0), 0);
  const failed = failures.groups.reduce((sum, group) => sum + group.count, 0);
  const withTrace = failures.groups.filter((group) => group.latestTraceId !== null).length;
  const withMessage = failures.groups.filter((group) => group.latestMessage !== null).length;
  console.log(
    `console API: ${tasks.tasks.length} tasks (made ${expected.tasks}), ${runs.toFixed(1)} runs ` +
      `(made ${expected.attempts}); ${failures.groups.length} failure groups (made ` +
      `${expected.groups}), ${failed.toFixed(1)} failed attempts (made ${expected.failures}); ` +
      `${withTrace} groups with a latest trace, ${withMessage} with its message` +
      (failures.examplesProblem ? `; examples problem: ${failures.examplesProblem.message}` : ''),
  );
  return { rows: tasks.tasks.length, groups: failures.groups.length };
}

// ---- one page load -----------------------------------------------------------------------------

const PAGES = {
  tasks: { path: '/?range=1h', selector: '[data-testid="task-row"]' },
  failures: { path: '/failures?range=1h', selector: '[data-testid="failure-group"]' },
};

function resourceKind(url, consoleUrl) {
  if (!url.startsWith(consoleUrl)) return 'other';
  const path = new URL(url).pathname;
  if (path.startsWith('/api/')) return 'json';
  if (path.endsWith('.js')) return 'js';
  if (path.endsWith('.css')) return 'css';
  return 'html';
}

/**
 * Opens `name` in a new browser context and measures its load: first render, bytes by kind,
 * the page's /api calls, the backend requests (at first render and once the network is idle)
 * and the console server's CPU.
 */
async function loadPage(browser, consoleRun, proxies, name, rows) {
  const { path, selector } = PAGES[name];
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    const incidents = [];
    page.on('pageerror', (error) => incidents.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') incidents.push(`console error: ${message.text()}`);
    });
    const apiCalls = {};
    page.on('request', (request) => {
      const { pathname } = new URL(request.url());
      if (pathname.startsWith('/api/')) apiCalls[pathname] = (apiCalls[pathname] ?? 0) + 1;
    });
    for (const proxy of Object.values(proxies)) proxy.reset();
    const cpuBefore = processCpuMs(consoleRun.pid);
    await page.goto(`${consoleRun.url}${path}`, { waitUntil: 'commit' });
    const rendered = await page.waitForFunction(
      ([rowSelector, count]) =>
        globalThis.document.querySelectorAll(rowSelector).length >= count
          ? performance.now()
          : false,
      [selector, rows],
      { polling: 'raf', timeout: 60_000 },
    );
    const renderMs = await rendered.jsonValue();
    const atRender = Object.fromEntries(
      BACKENDS.map((backend) => [backend, proxies[backend].snapshot().requests]),
    );
    await page.waitForLoadState('networkidle');
    const backends = Object.fromEntries(
      BACKENDS.map((backend) => [backend, proxies[backend].snapshot()]),
    );
    const cpuMs = processCpuMs(consoleRun.pid) - cpuBefore;
    const timing = await page.evaluate(() => {
      const entries = [
        ...performance.getEntriesByType('navigation'),
        ...performance.getEntriesByType('resource'),
      ];
      return entries.map((entry) => ({
        name: entry.name,
        transferSize: entry.transferSize,
        bodySize: entry.encodedBodySize,
        decodedSize: entry.decodedBodySize,
        startTime: entry.startTime,
        duration: entry.duration,
        domContentLoaded: entry.domContentLoadedEventEnd,
      }));
    });
    const bytes = { html: 0, js: 0, css: 0, json: 0, other: 0 };
    let transferred = 0;
    // The page's own call for its rows: when it asked (after loading its script) and when the
    // answer had arrived, on the same clock as renderMs.
    let mainApi = { startTime: NaN, duration: NaN };
    let scriptEndMs = NaN;
    for (const entry of timing) {
      if (entry.name.endsWith('/assets/app.js')) scriptEndMs = entry.startTime + entry.duration;
      bytes[resourceKind(entry.name, consoleRun.url)] += entry.bodySize;
      transferred += entry.transferSize;
      const { pathname } = new URL(entry.name);
      if (pathname === (name === 'tasks' ? '/api/tasks' : '/api/failures')) mainApi = entry;
    }
    const shown = await page.locator(selector).count();
    return {
      renderMs,
      scriptEndMs,
      domContentLoadedMs: timing[0].domContentLoaded,
      mainApiStartMs: mainApi.startTime,
      mainApiMs: mainApi.duration,
      cpuMs,
      transferred,
      bytes,
      apiCalls,
      atRender,
      backends,
      shown,
      incidents,
    };
  } finally {
    await context.close();
  }
}

// ---- reporting ---------------------------------------------------------------------------------

const kib = (value) => `${(value / 1024).toFixed(1)} KiB`;

function printStep(title, samples) {
  printSpreadTable(
    `${title}: first render, navigation start to every row in the DOM`,
    Object.fromEntries(
      Object.entries(samples).map(([name, loads]) => [
        `${PAGES[name].path} (${loads[0].shown} rows)`,
        loads.map((load) => load.renderMs),
      ]),
    ),
  );
  for (const [name, loads] of Object.entries(samples)) {
    const spread = (values, format) => `${format(median(values))} (${formatRange(values, format)})`;
    const ms = (value) => `${value.toFixed(0)} ms`;
    const count = (value) => value.toFixed(0);
    console.log(`\n${PAGES[name].path}, ${loads.length} loads, median (min–max):`);
    console.log(
      `  its script arrives at ${spread(
        loads.map((load) => load.scriptEndMs),
        ms,
      )}, DOMContentLoaded ${spread(
        loads.map((load) => load.domContentLoadedMs),
        ms,
      )}\n  the page asks for its rows at ${spread(
        loads.map((load) => load.mainApiStartMs),
        ms,
      )}, the answer takes ${spread(
        loads.map((load) => load.mainApiMs),
        ms,
      )}, rows in the DOM ${spread(
        loads.map((load) => load.renderMs - load.mainApiStartMs - load.mainApiMs),
        ms,
      )} after it; console server CPU per load ${spread(
        loads.map((load) => load.cpuMs),
        ms,
      )}`,
    );
    for (const backend of BACKENDS) {
      const paths = loads[0].backends[backend].byPath;
      const slowest = (key) =>
        median(loads.map((load) => load.backends[backend].slowestByPath[key] ?? 0));
      console.log(
        `  ${backend.padEnd(12)} requests per load ${spread(
          loads.map((load) => load.backends[backend].requests),
          count,
        )}, of them before first render ${spread(
          loads.map((load) => load.atRender[backend]),
          count,
        )}; response bytes ${spread(
          loads.map((load) => load.backends[backend].responseBytes),
          kib,
        )}; first load: ${Object.entries(paths)
          .map(([key, value]) => `${key} ×${value} (slowest ${slowest(key).toFixed(0)} ms)`)
          .join(', ')}`,
      );
    }
    const weight = ['html', 'js', 'css', 'json']
      .map((kind) => `${kind.toUpperCase()} ${kib(median(loads.map((load) => load.bytes[kind])))}`)
      .join(', ');
    console.log(
      `  page weight (bodies, median): ${weight}; transferred with headers ${spread(
        loads.map((load) => load.transferred),
        kib,
      )}; the page's API calls (first load): ${Object.entries(loads[0].apiCalls)
        .map(([key, value]) => `${key} ×${value}`)
        .join(', ')}`,
    );
    const slowestPrometheus = loads
      .map((load) => [
        load.backends.prometheus.slowestByPath['GET /api/v1/query'] ?? 0,
        load.backends.prometheus.slowestUrl['GET /api/v1/query'],
      ])
      .sort((a, b) => b[0] - a[0])[0];
    if (slowestPrometheus[1] !== undefined) {
      const query = new URL(slowestPrometheus[1], 'http://prometheus.invalid').searchParams;
      console.log(
        `  slowest Prometheus query of the loads (${slowestPrometheus[0].toFixed(0)} ms): ${query.get('query')}`,
      );
    }
    const incidents = loads.flatMap((load) => load.incidents);
    if (incidents.length > 0) console.log(`  page incidents: ${incidents.join('; ')}`);
  }
}

const backendTotal = (load) =>
  BACKENDS.reduce((sum, backend) => sum + load.backends[backend].requests, 0);

async function measureStep(browser, consoleRun, proxies, expected) {
  const shape = await checkApi(consoleRun.url, expected);
  const rows = { tasks: shape.rows, failures: shape.groups };
  return runRounds(Object.keys(PAGES), REPETITIONS, (name) =>
    loadPage(browser, consoleRun, proxies, name, rows[name]),
  );
}

// ---- the benchmark -----------------------------------------------------------------------------

export async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-console-stack-'));
  const spoolDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-console-spool-'));
  const proxies = {};
  let stack;
  let consoleRun;
  let browser;
  try {
    stack = await startStack({
      stateDir,
      ports: stackPortsFrom(PORT_BASE),
      evaluationInterval: '5s',
    });
    for (const backend of BACKENDS) {
      const url =
        backend === 'jaeger'
          ? stack.endpoints.jaegerQuery
          : backend === 'prometheus'
            ? stack.endpoints.prometheus
            : stack.endpoints.alertmanager;
      proxies[backend] = await startCountingProxy(url);
    }
    console.log(`\nconsole on ${process.version}, ${machineLine()}`);
    const small = expectedFor(FIRST_STEP_TASKS);
    const full = expectedFor(TASKS);

    let started = performance.now();
    await generate(stack.endpoints.otlpHttp, spoolDir, 0, FIRST_STEP_TASKS);
    await waitForBackends(stack, small);
    console.log(
      `step 1: ${small.tasks} tasks, ${small.attempts} attempts, ${small.failures} failures in ` +
        `${small.groups} groups, in the backends after ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    consoleRun = await startConsole(proxies);
    browser = await launchBrowser();
    const smallSamples = await measureStep(browser, consoleRun, proxies, small);

    started = performance.now();
    await generate(stack.endpoints.otlpHttp, spoolDir, FIRST_STEP_TASKS, TASKS);
    await waitForBackends(stack, full);
    console.log(
      `step 2: ${full.tasks} tasks, ${full.attempts} attempts, ${full.failures} failures in ` +
        `${full.groups} groups, in the backends after ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    const fullSamples = await measureStep(browser, consoleRun, proxies, full);

    printStep(`${small.tasks} tasks, ${small.failures} failures`, smallSamples);
    printStep(`${full.tasks} tasks, ${full.failures} failures`, fullSamples);

    target(
      'UI1',
      `tasks page first render, ${full.tasks} tasks and ${full.failures} failures`,
      fullSamples.tasks.map((load) => load.renderMs / 1000),
      {
        atMost: 1,
        unit: ' s',
        detail: `min–max ${formatRange(fullSamples.tasks.map((load) => load.renderMs))} ms`,
      },
    );
    for (const name of Object.keys(PAGES)) {
      const perLoad = (loads) => loads.map(backendTotal);
      const describe = (loads) =>
        BACKENDS.map(
          (backend) => `${backend} ${median(loads.map((load) => load.backends[backend].requests))}`,
        ).join(', ');
      target(
        name === 'tasks' ? 'UI2' : 'UI3',
        `${name} page: backend requests per load at ${full.tasks} tasks (goal: no more than at ${small.tasks})`,
        Math.max(...perLoad(fullSamples[name])),
        {
          atMost: Math.max(...perLoad(smallSamples[name])),
          unit: '',
          detail: `medians at ${full.tasks} tasks: ${describe(fullSamples[name])}; at ${small.tasks}: ${describe(smallSamples[name])}`,
        },
      );
    }
  } finally {
    await browser?.close();
    await consoleRun?.stop();
    for (const proxy of Object.values(proxies)) await proxy.close();
    await stack?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

await main();
