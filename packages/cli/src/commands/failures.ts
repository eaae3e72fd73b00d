import { parseArgs } from 'node:util';
import { backendUrl, DEFAULT_BACKEND_URLS } from '../backend-url.js';
import { argumentsOrExitCode, printFromBackend } from '../command-flow.js';
import { processOutput } from '../command-output.js';
import type { CommandOutput } from '../command-output.js';
import { formatDuration, parseDuration } from '../duration.js';
import { formatRollupTable, rollUpFailures } from '../failure-rollup.js';
import type { FailureRollupKey } from '../failure-rollup.js';
import { JaegerClient } from '../jaeger-client.js';
import { findFailures } from '../jaeger-failures.js';
import type { TaskFailure } from '../jaeger-failures.js';
import { PrometheusClient } from '../prometheus-client.js';
import { failureGroups } from '../task-queries/failure-groups.js';
import { traceLinks } from '../trace-links.js';
import { textTable } from '../text-table.js';
import { UsageError } from '../usage-error.js';

const USAGE = `Usage: tasklens failures [--service NAME] [--task NAME] [--since DURATION] [--limit N]
                         [--group-by error|task [--prometheus-url URL]]
                         [--jaeger-url URL | --state-dir DIR] [--console-url URL] [--json]

Lists failed task attempts (spans with error status and a task.name) found in Jaeger, newest
first: time, service, task, queue, attempt, error type, message, duration and a link to the
trace: its page in the console (\`tasklens ui\`) when the console answers, else Jaeger's.

Options:
  --service NAME     only this service (default: every service Jaeger knows)
  --task NAME        only this task
  --since DURATION   how far back to look, e.g. 15m, 1h, 2d (default 1h)
  --limit N          at most N failures (default 20), or N groups with --group-by
  --group-by error|task
                     one row per error type (or per service, task and queue) instead: the
                     failed attempts in the range counted by Prometheus (exact, whatever
                     Jaeger samples or keeps), the first and last time they grew, the tasks
                     (or error types) involved and one example trace with its message; the
                     largest groups first
  --prometheus-url URL
                     with --group-by: where the counts come from (default
                     $TASKLENS_PROMETHEUS_URL, else the recorded stack's Prometheus or metrics
                     store, else ${DEFAULT_BACKEND_URLS.prometheus})
  --jaeger-url URL   Jaeger's query endpoint (default $TASKLENS_JAEGER_URL, else the Jaeger of the
                     stack \`tasklens stack up\` recorded in its default state directory, on
                     whatever --port-base, else ${DEFAULT_BACKEND_URLS.jaeger})
  --console-url URL  the console the links open (default $TASKLENS_CONSOLE_URL, else the
                     recorded stack's, else ${DEFAULT_BACKEND_URLS.console})
  --state-dir DIR    the Jaeger, Prometheus and console of the stack recorded in DIR
                     (\`tasklens stack up --state-dir DIR\`)
  --json             print a JSON array instead of a table
  -h, --help         show this help

Exit code: 0 (also when nothing failed), 2 on bad arguments, 3 when Jaeger (or, with
--group-by, Prometheus) is unreachable.
`;

interface FailuresArguments {
  help: boolean;
  service: string | undefined;
  task: string | undefined;
  sinceMs: number;
  limit: number;
  groupBy: FailureRollupKey | undefined;
  prometheusUrl: string;
  jaegerUrl: string;
  consoleUrl: string;
  json: boolean;
}

function parseFailuresArguments(argv: string[]): FailuresArguments {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      task: { type: 'string' },
      since: { type: 'string', default: '1h' },
      limit: { type: 'string', default: '20' },
      'group-by': { type: 'string' },
      'prometheus-url': { type: 'string' },
      'jaeger-url': { type: 'string' },
      'console-url': { type: 'string' },
      'state-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const sinceMs = parseDuration(values.since);
  if (sinceMs === undefined) {
    throw new UsageError(`--since "${values.since}" is not a duration such as 15m, 1h or 2d`);
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new UsageError(`--limit "${values.limit}" is not a whole number from 1 to 10000`);
  }
  const groupBy = values['group-by'];
  if (groupBy !== undefined && groupBy !== 'error' && groupBy !== 'task') {
    throw new UsageError(`--group-by must be error or task, got "${groupBy}"`);
  }
  if (values['prometheus-url'] !== undefined && groupBy === undefined) {
    throw new UsageError('--prometheus-url applies to --group-by only');
  }
  const prometheusUrl = backendUrl('prometheus', values['prometheus-url'], values['state-dir']);
  const jaegerUrl = backendUrl('jaeger', values['jaeger-url'], values['state-dir']);
  const consoleUrl = backendUrl('console', values['console-url'], values['state-dir']);
  return {
    help: values.help,
    service: values.service,
    task: values.task,
    sinceMs,
    limit,
    groupBy,
    prometheusUrl,
    jaegerUrl,
    consoleUrl,
    json: values.json,
  };
}

function formatTable(failures: TaskFailure[]): string {
  if (failures.length === 0) return 'no failed tasks\n';
  const rows = failures.map((failure) => [
    failure.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    failure.service,
    failure.task,
    failure.queue ?? '-',
    failure.attempt === undefined
      ? '-'
      : `${failure.attempt}${failure.retrying ? ' (retrying)' : ''}`,
    failure.errorType ?? '-',
    formatDuration(failure.durationMs),
    failure.traceId,
  ]);
  const header = ['TIME', 'SERVICE', 'TASK', 'QUEUE', 'ATTEMPT', 'ERROR', 'DURATION', 'TRACE'];
  return textTable(header, rows, (index) => {
    const failure = failures[index];
    return `${failure.message ?? '(no message)'}  ${failure.url}`;
  });
}

/** Groups without an exception message that `--group-by` looks up in Jaeger on their own. */
const MESSAGE_SEARCHES = 20;

/**
 * The failure groups of the range from Prometheus, with examples from its exemplars and Jaeger,
 * rolled up by error type or task (`--group-by`). A Jaeger that cannot be read costs the
 * examples' messages, said on stderr; the counts still stand.
 */
async function groupedFailures(
  options: FailuresArguments & { groupBy: FailureRollupKey },
  output: CommandOutput,
): Promise<string> {
  const jaeger = new JaegerClient(options.jaegerUrl);
  const [traceUrl, { groups, jaegerProblem }] = await Promise.all([
    traceLinks(options.consoleUrl, jaeger),
    failureGroups(
      new PrometheusClient(options.prometheusUrl),
      jaeger,
      Math.round(options.sinceMs / 1000),
      { service: options.service, task: options.task },
      Date.now(),
      MESSAGE_SEARCHES,
    ),
  ]);
  if (jaegerProblem !== undefined) {
    output.stderr(`tasklens failures: examples without messages: ${jaegerProblem.message}\n`);
  }
  const rows = rollUpFailures(groups, options.groupBy, traceUrl).slice(0, options.limit);
  return options.json
    ? `${JSON.stringify(rows, null, 2)}\n`
    : formatRollupTable(rows, options.groupBy);
}

/**
 * `tasklens failures`: lists failed task attempts from Jaeger, with links to their traces, or
 * with `--group-by` their counts per error type or task from Prometheus.
 *
 * @param argv - the arguments after `failures`
 * @returns the exit code: 0, 2 on bad arguments, 3 when a backend is unreachable
 */
export async function failuresCommand(
  argv: string[],
  output: CommandOutput = processOutput,
): Promise<number> {
  const options = argumentsOrExitCode('failures', USAGE, output, () =>
    parseFailuresArguments(argv),
  );
  if (typeof options === 'number') return options;
  const { groupBy } = options;
  return printFromBackend('failures', output, async () => {
    if (groupBy !== undefined) return groupedFailures({ ...options, groupBy }, output);
    const client = new JaegerClient(options.jaegerUrl);
    const traceUrl = await traceLinks(options.consoleUrl, client);
    const failures = await findFailures(client, { ...options, traceUrl });
    return options.json ? `${JSON.stringify(failures, null, 2)}\n` : formatTable(failures);
  });
}
