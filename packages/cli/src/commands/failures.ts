import { parseArgs } from 'node:util';
import { backendUrl, DEFAULT_BACKEND_URLS } from '../backend-url.js';
import { argumentsOrExitCode, printFromBackend } from '../command-flow.js';
import { processOutput } from '../command-output.js';
import type { CommandOutput } from '../command-output.js';
import { formatDuration, parseDuration } from '../duration.js';
import { JaegerClient } from '../jaeger-client.js';
import { traceLinks } from '../trace-links.js';
import type { JaegerSpan, JaegerTrace } from '../jaeger-client.js';
import { UsageError } from '../usage-error.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_TASK_ATTEMPT,
  ATTR_TASK_NAME,
  ATTR_TASK_OUTCOME,
  ATTR_TASK_RETRYING,
} from '@tasklens/core';

const USAGE = `Usage: tasklens failures [--service NAME] [--task NAME] [--since DURATION] [--limit N]
                         [--jaeger-url URL | --state-dir DIR] [--console-url URL] [--json]

Lists failed task attempts (spans with error status and a task.name) found in Jaeger, newest
first: time, service, task, queue, attempt, error type, message, duration and a link to the
trace: its page in the console (\`tasklens ui\`) when the console answers, else Jaeger's.

Options:
  --service NAME     only this service (default: every service Jaeger knows)
  --task NAME        only this task
  --since DURATION   how far back to look, e.g. 15m, 1h, 2d (default 1h)
  --limit N          at most N failures (default 20)
  --jaeger-url URL   Jaeger's query endpoint (default $TASKLENS_JAEGER_URL, else the Jaeger of the
                     stack \`tasklens stack up\` recorded in its default state directory, on
                     whatever --port-base, else ${DEFAULT_BACKEND_URLS.jaeger})
  --console-url URL  the console the links open (default $TASKLENS_CONSOLE_URL, else the
                     recorded stack's, else ${DEFAULT_BACKEND_URLS.console})
  --state-dir DIR    the Jaeger and console of the stack recorded in DIR
                     (\`tasklens stack up --state-dir DIR\`)
  --json             print a JSON array instead of a table
  -h, --help         show this help

Exit code: 0 (also when nothing failed), 2 on bad arguments, 3 when Jaeger is unreachable.
`;

/** One failed task attempt, as printed by `tasklens failures --json`. */
export interface TaskFailure {
  time: string;
  service: string;
  task: string;
  queue: string | undefined;
  attempt: number | undefined;
  retrying: boolean;
  /** task.outcome: failure or timeout. */
  outcome: string | undefined;
  errorType: string | undefined;
  message: string | undefined;
  durationMs: number;
  traceId: string;
  spanId: string;
  spanName: string;
  url: string;
}

interface FailuresArguments {
  help: boolean;
  service: string | undefined;
  task: string | undefined;
  sinceMs: number;
  limit: number;
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
  const jaegerUrl = backendUrl('jaeger', values['jaeger-url'], values['state-dir']);
  const consoleUrl = backendUrl('console', values['console-url'], values['state-dir']);
  return {
    help: values.help,
    service: values.service,
    task: values.task,
    sinceMs,
    limit,
    jaegerUrl,
    consoleUrl,
    json: values.json,
  };
}

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((candidate) => candidate.key === key)?.value;
}

function optionalString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function toFailure(
  trace: JaegerTrace,
  span: JaegerSpan,
  traceUrl: (traceId: string) => string,
): TaskFailure {
  const attempt = tag(span, ATTR_TASK_ATTEMPT);
  return {
    time: new Date(span.startTime / 1000).toISOString(),
    service: trace.processes[span.processID]?.serviceName ?? 'unknown',
    task: optionalString(tag(span, ATTR_TASK_NAME)) ?? 'unknown',
    queue: optionalString(tag(span, ATTR_MESSAGING_DESTINATION_NAME)),
    attempt: attempt === undefined ? undefined : Number(attempt),
    retrying: tag(span, ATTR_TASK_RETRYING) === true,
    outcome: optionalString(tag(span, ATTR_TASK_OUTCOME)),
    errorType: optionalString(tag(span, ATTR_ERROR_TYPE)),
    message: optionalString(tag(span, 'otel.status_description')),
    durationMs: span.duration / 1000,
    traceId: span.traceID,
    spanId: span.spanID,
    spanName: span.operationName,
    url: traceUrl(span.traceID),
  };
}

/** Outcomes of failed attempts; Jaeger v2 matches tags against span attributes, not status. */
const FAILED_OUTCOMES = ['failure', 'timeout'];

function isFailedTaskSpan(span: JaegerSpan, task: string | undefined): boolean {
  const errorStatus = tag(span, 'error') === true || tag(span, 'otel.status_code') === 'ERROR';
  const taskName = tag(span, ATTR_TASK_NAME);
  return errorStatus && taskName !== undefined && (task === undefined || taskName === task);
}

/** Which failed attempts {@link findFailures} looks for. */
export interface FailureQuery {
  /** One service, or every service Jaeger knows. */
  service?: string | undefined;
  task?: string | undefined;
  /** From `endMs - sinceMs` to `endMs` (default now). */
  sinceMs: number;
  endMs?: number;
  /** At most this many, and this many traces per service and outcome from Jaeger. */
  limit: number;
  /** The link of a trace (the console's trace page, else Jaeger's). */
  traceUrl: (traceId: string) => string;
}

/**
 * Failed task spans found in Jaeger, newest first, at most `limit`: one search per service and
 * failed outcome. `tasklens failures` and the console's failure groups read them alike.
 */
export async function findFailures(
  client: JaegerClient,
  query: FailureQuery,
): Promise<TaskFailure[]> {
  const services = query.service === undefined ? await client.services() : [query.service];
  const endMs = query.endMs ?? Date.now();
  const failures: TaskFailure[] = [];
  const seen = new Set<string>();
  for (const service of services) {
    for (const outcome of FAILED_OUTCOMES) {
      const tags: Record<string, string> = { [ATTR_TASK_OUTCOME]: outcome };
      if (query.task !== undefined) tags[ATTR_TASK_NAME] = query.task;
      const traces = await client.findTraces(
        service,
        tags,
        endMs - query.sinceMs,
        endMs,
        query.limit,
      );
      for (const trace of traces) {
        for (const span of trace.spans) {
          if (!isFailedTaskSpan(span, query.task) || seen.has(span.spanID)) continue;
          seen.add(span.spanID);
          failures.push(toFailure(trace, span, query.traceUrl));
        }
      }
    }
  }
  return failures.sort((a, b) => b.time.localeCompare(a.time)).slice(0, query.limit);
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
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  const body = rows.flatMap((row, index) => {
    const failure = failures[index];
    return [line(row), `    ${failure.message ?? '(no message)'}  ${failure.url}`];
  });
  return `${[line(header), ...body].join('\n')}\n`;
}

/**
 * `tasklens failures`: lists failed task attempts from Jaeger, with links to their traces.
 *
 * @param argv - the arguments after `failures`
 * @returns the exit code: 0, 2 on bad arguments, 3 when Jaeger is unreachable
 */
export async function failuresCommand(
  argv: string[],
  output: CommandOutput = processOutput,
): Promise<number> {
  const options = argumentsOrExitCode('failures', USAGE, output, () =>
    parseFailuresArguments(argv),
  );
  if (typeof options === 'number') return options;
  return printFromBackend('failures', output, async () => {
    const client = new JaegerClient(options.jaegerUrl);
    const traceUrl = await traceLinks(options.consoleUrl, client);
    const failures = await findFailures(client, { ...options, traceUrl });
    return options.json ? `${JSON.stringify(failures, null, 2)}\n` : formatTable(failures);
  });
}
