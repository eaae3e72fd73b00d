import { parseArgs } from 'node:util';
import { backendUrl } from '../backend-url.js';
import { argumentsOrExitCode, printFromBackend } from '../command-flow.js';
import { processOutput } from '../command-output.js';
import type { CommandOutput } from '../command-output.js';
import { formatDuration, parseDuration } from '../duration.js';
import { PrometheusClient } from '../prometheus-client.js';
import { UsageError } from '../usage-error.js';
import { ATTR_TASK_NAME, ATTR_TASK_OUTCOME, prometheusLabel, TASK_METRICS } from '@tasklens/core';

const DEFAULT_PROMETHEUS_URL = 'http://127.0.0.1:9090';

const USAGE = `Usage: tasklens stats [--since DURATION] [--task NAME] [--prometheus-url URL | --state-dir DIR]
                      [--json]

Per task, from Prometheus: runs, rate, failure %, p95 duration, p95 queue wait, p95 chain
latency (first enqueue of its task chain to the end of its attempts) and the age of the last
success, over the window --since.

Options:
  --since DURATION       the window, e.g. 15m, 1h, 1d (default 1h)
  --task NAME            only this task
  --prometheus-url URL   default $TASKLENS_PROMETHEUS_URL, else the stack \`tasklens stack up\`
                         recorded in its default state directory (its Prometheus, or with
                         --metrics-store the store's query API), else ${DEFAULT_PROMETHEUS_URL}
  --state-dir DIR        the same of the stack recorded in DIR
  --json                 print a JSON array instead of a table
  -h, --help             show this help

Exit code: 0, 2 on bad arguments, 3 when Prometheus is unreachable.
`;

/** One task's numbers, as printed by `tasklens stats --json` (null where there is no data). */
export interface TaskStats {
  task: string;
  runs: number | null;
  ratePerSecond: number | null;
  failurePercent: number | null;
  p95DurationSeconds: number | null;
  p95WaitSeconds: number | null;
  /** From the first enqueue of the task's chain to the end of its attempts. */
  p95PipelineSeconds: number | null;
  lastSuccessAgeSeconds: number | null;
}

type StatsColumn = Exclude<keyof TaskStats, 'task'>;

interface StatsArguments {
  help: boolean;
  since: string;
  window: string;
  task: string | undefined;
  prometheusUrl: string;
  json: boolean;
}

/** A PromQL label selector from matchers such as `task_name="backup"`. */
function selector(...matchers: string[]): string {
  return `{${matchers.join(',')}}`;
}

/**
 * How much a cumulative series grew within the window, counting series born inside it from zero.
 * Every process reports its own series (service.instance.id), so a short-lived one, such as a
 * `tasklens run`, leaves a single sample: `increase()` would count it as nothing.
 */
function growth(series: string, window: string): string {
  return `((last_over_time(${series}[${window}]) - ${series} offset ${window}) or last_over_time(${series}[${window}]))`;
}

const TASK_NAME = prometheusLabel(ATTR_TASK_NAME);
const TASK_OUTCOME = prometheusLabel(ATTR_TASK_OUTCOME);
const { duration, waitDuration, pipelineDuration, lastSuccess } = TASK_METRICS;

/** The PromQL of each column over a window such as `3600s`, optionally for one task. */
export function statsQueries(
  window: string,
  task: string | undefined,
): Record<StatsColumn, string> {
  const taskMatcher =
    task === undefined ? `${TASK_NAME}!=""` : `${TASK_NAME}=${JSON.stringify(task)}`;
  const all = selector(taskMatcher);
  const failed = selector(`${TASK_OUTCOME}=~"failure|timeout"`, taskMatcher);
  const seconds = Number.parseInt(window, 10);
  const runs = (matchers: string): string =>
    `sum by (${TASK_NAME}) (${growth(`${duration.prometheusName}_count${matchers}`, window)})`;
  const p95 = (histogram: string): string =>
    `histogram_quantile(0.95, sum by (${TASK_NAME}, le) (${growth(`${histogram}_bucket${all}`, window)}))`;
  return {
    runs: runs(all),
    ratePerSecond: `${runs(all)} / ${seconds}`,
    failurePercent: `100 * (${runs(failed)} or (${runs(all)} * 0)) / ${runs(all)}`,
    p95DurationSeconds: p95(duration.prometheusName),
    p95WaitSeconds: p95(waitDuration.prometheusName),
    p95PipelineSeconds: p95(pipelineDuration.prometheusName),
    lastSuccessAgeSeconds: `time() - max by (${TASK_NAME}) (max_over_time(${lastSuccess.prometheusName}${all}[${window}]))`,
  };
}

function parseStatsArguments(argv: string[]): StatsArguments {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      since: { type: 'string', default: '1h' },
      task: { type: 'string' },
      'prometheus-url': { type: 'string' },
      'state-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const sinceMs = parseDuration(values.since);
  if (sinceMs === undefined || sinceMs < 60_000) {
    throw new UsageError(
      `--since "${values.since}" is not a duration of at least 1m (e.g. 15m, 1h)`,
    );
  }
  const prometheusUrl = backendUrl({
    option: '--prometheus-url',
    given: values['prometheus-url'],
    stateDir: values['state-dir'],
    envVar: 'TASKLENS_PROMETHEUS_URL',
    fromStack: (endpoints) => endpoints.storeQuery ?? endpoints.prometheus,
    fallback: DEFAULT_PROMETHEUS_URL,
  });
  return {
    help: values.help,
    since: values.since,
    window: `${Math.round(sinceMs / 1000)}s`,
    task: values.task,
    prometheusUrl,
    json: values.json,
  };
}

/** Runs every column's query and joins the results per task. */
export async function collectStats(
  client: PrometheusClient,
  window: string,
  task: string | undefined,
): Promise<TaskStats[]> {
  const queries = Object.entries(statsQueries(window, task)) as [StatsColumn, string][];
  const results = await Promise.all(queries.map(([, expression]) => client.query(expression)));
  const byTask = new Map<string, TaskStats>();
  queries.forEach(([column], index) => {
    for (const sample of results[index]) {
      const name = sample.labels[TASK_NAME] ?? '';
      const row = byTask.get(name) ?? {
        task: name,
        runs: null,
        ratePerSecond: null,
        failurePercent: null,
        p95DurationSeconds: null,
        p95WaitSeconds: null,
        p95PipelineSeconds: null,
        lastSuccessAgeSeconds: null,
      };
      row[column] = Number.isNaN(sample.value) ? null : sample.value;
      byTask.set(name, row);
    }
  });
  return [...byTask.values()].sort((a, b) => a.task.localeCompare(b.task));
}

function show(value: number | null, format: (value: number) => string): string {
  return value === null ? '-' : format(value);
}

function formatTable(rows: TaskStats[], since: string): string {
  if (rows.length === 0) return `no task metrics in the last ${since}\n`;
  const header = [
    'TASK',
    'RUNS',
    'RATE/MIN',
    'FAILED',
    'P95 DURATION',
    'P95 WAIT',
    'P95 CHAIN',
    'LAST SUCCESS',
  ];
  const cells = rows.map((row) => [
    row.task,
    show(row.runs, (value) => Math.round(value).toString()),
    show(row.ratePerSecond, (value) => (value * 60).toFixed(2)),
    show(row.failurePercent, (value) => `${value.toFixed(1)}%`),
    show(row.p95DurationSeconds, (value) => formatDuration(value * 1000)),
    show(row.p95WaitSeconds, (value) => formatDuration(value * 1000)),
    show(row.p95PipelineSeconds, (value) => formatDuration(value * 1000)),
    show(row.lastSuccessAgeSeconds, (value) => `${formatDuration(value * 1000)} ago`),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => row[column].length)),
  );
  return `${[header, ...cells]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/**
 * `tasklens stats`: per task rate, failure %, p95 duration, wait and chain latency, and age of
 * the last success.
 *
 * @param argv - the arguments after `stats`
 * @returns the exit code: 0, 2 on bad arguments, 3 when Prometheus is unreachable
 */
export async function statsCommand(
  argv: string[],
  output: CommandOutput = processOutput,
): Promise<number> {
  const options = argumentsOrExitCode('stats', USAGE, output, () => parseStatsArguments(argv));
  if (typeof options === 'number') return options;
  return printFromBackend('stats', output, async () => {
    const client = new PrometheusClient(options.prometheusUrl);
    const rows = await collectStats(client, options.window, options.task);
    return options.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows, options.since);
  });
}
