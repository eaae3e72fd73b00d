import { parseArgs } from 'node:util';
import { backendUrl, DEFAULT_BACKEND_URLS } from '../backend-url.js';
import { argumentsOrExitCode, printFromBackend } from '../command-flow.js';
import { processOutput } from '../command-output.js';
import type { CommandOutput } from '../command-output.js';
import { formatDuration, parseDuration } from '../duration.js';
import type { TaskRow } from '../console/api-types.js';
import { PrometheusClient } from '../prometheus-client.js';
import { collectTaskRows } from '../task-queries/collect.js';
import { textTable } from '../text-table.js';
import { UsageError } from '../usage-error.js';

const USAGE = `Usage: tasklens stats [--since DURATION] [--task NAME] [--prometheus-url URL | --state-dir DIR]
                      [--json]

Per task (service, task name, queue and messaging system), from Prometheus: runs, rate,
failure % (failed, timed-out or lost attempts over finished ones, cancelled ones left out), p50
and p95 duration, p95 queue wait, p95 chain latency (first enqueue of its task chain to the end
of its attempts), attempts in flight now and the age of the last success, over the window --since; and
for the row's queue now: tasks waiting and the age of the oldest (the queue depth gauges; '-'
where no process reports them, and a queue with waiting tasks but no attempts in the window gets
a row of its own). The same numbers as the tasks page of \`tasklens ui\`; --json prints every
column.

Options:
  --since DURATION       the window, e.g. 15m, 1h, 1d (default 1h)
  --task NAME            only this task
  --prometheus-url URL   default $TASKLENS_PROMETHEUS_URL, else the stack \`tasklens stack up\`
                         recorded in its default state directory (its Prometheus, or with
                         --metrics-store the store's query API), else ${DEFAULT_BACKEND_URLS.prometheus}
  --state-dir DIR        the same of the stack recorded in DIR
  --json                 print a JSON array instead of a table
  -h, --help             show this help

Exit code: 0, 2 on bad arguments, 3 when Prometheus is unreachable.
`;

interface StatsArguments {
  help: boolean;
  since: string;
  windowSeconds: number;
  task: string | undefined;
  prometheusUrl: string;
  json: boolean;
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
  const prometheusUrl = backendUrl('prometheus', values['prometheus-url'], values['state-dir']);
  return {
    help: values.help,
    since: values.since,
    windowSeconds: Math.round(sinceMs / 1000),
    task: values.task,
    prometheusUrl,
    json: values.json,
  };
}

function show(value: number | null, format: (value: number) => string): string {
  return value === null ? '-' : format(value);
}

function formatTable(rows: TaskRow[], since: string): string {
  if (rows.length === 0) return `no task metrics in the last ${since}\n`;
  const header = [
    'SERVICE',
    'TASK',
    'QUEUE',
    'RUNS',
    'RATE/MIN',
    'FAILED',
    'P95 DURATION',
    'P95 WAIT',
    'P95 CHAIN',
    'LAST SUCCESS',
    'WAITING',
    'OLDEST WAITING',
  ];
  const cells = rows.map((row) => [
    row.service === '' ? '-' : row.service,
    row.task === '' ? '-' : row.task,
    row.queue === '' ? '-' : row.queue,
    show(row.runs, (value) => Math.round(value).toString()),
    show(row.ratePerSecond, (value) => (value * 60).toFixed(2)),
    show(row.failurePercent, (value) => `${value.toFixed(1)}%`),
    show(row.p95DurationSeconds, (value) => formatDuration(value * 1000)),
    show(row.p95WaitSeconds, (value) => formatDuration(value * 1000)),
    show(row.p95PipelineSeconds, (value) => formatDuration(value * 1000)),
    show(row.lastSuccessAgeSeconds, (value) => `${formatDuration(value * 1000)} ago`),
    show(row.waiting, (value) => Math.round(value).toString()),
    show(row.oldestWaitingAgeSeconds, (value) => formatDuration(value * 1000)),
  ]);
  return textTable(header, cells);
}

/**
 * `tasklens stats`: per task (service, task, queue, messaging system) runs, rate, failure %, p95 duration, wait and chain latency, and age of
 * the last success; per queue the tasks waiting now and the age of the oldest.
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
    const rows = await collectTaskRows(
      client,
      options.windowSeconds,
      options.task === undefined ? {} : { task: options.task },
    );
    return options.json ? `${JSON.stringify(rows, null, 2)}\n` : formatTable(rows, options.since);
  });
}
