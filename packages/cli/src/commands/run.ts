import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { injectTaskEnv, runTask, TaskTimeoutError } from '@tasklens/core';
import { startTelemetry } from '@tasklens/node';
import { argumentsOrExitCode } from '../command-flow.js';
import { processOutput } from '../command-output.js';
import type { CommandOutput } from '../command-output.js';
import { formatDuration, parseDuration } from '../duration.js';
import { EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_OK, EXIT_TIMEOUT } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';

const USAGE = `Usage: tasklens run --task NAME [--timeout DURATION] [--kill-after DURATION]
                    [--service NAME] [--] COMMAND [ARGS...]

Runs COMMAND as the task NAME: one span (exit code, duration, outcome), the task metrics and
the time of its last success, flushed before tasklens exits. The command gets TRACEPARENT and
TRACESTATE in its environment, so a child that uses @tasklens/node joins the run's trace.
Standard input, output and error pass through; SIGINT, SIGTERM and SIGHUP are forwarded.

Options:
  --task NAME            the kind of work, e.g. backup (required; a label: no ids or dates)
  --timeout DURATION     stop the command after DURATION (e.g. 90s, 15m, 2h): SIGTERM, then
                         SIGKILL after --kill-after; outcome timeout, exit code 124
  --kill-after DURATION  grace between SIGTERM and SIGKILL (default 10s)
  --service NAME         service.name of the run (default $OTEL_SERVICE_NAME, else tasklens-run)
  --json                 after the run, print one JSON line on stderr: task, outcome, exit code,
                         duration and trace id (for logs that link to the trace)
  -h, --help             show this help

Exit code: the command's own; 128+N when it died of signal N; 124 on timeout; 126 when it
cannot be executed; 127 when it is not found; 2 on bad arguments. Telemetry goes where the
standard OTEL_* variables say (default OTLP/HTTP to localhost:4318); an unreachable collector
costs one warning and at most TASKLENS_FLUSH_TIMEOUT_MS (default 5000) at exit, never the
command's exit code.
`;

/** What `tasklens run --json` prints on stderr after the run. */
export interface RunSummary {
  task: string;
  outcome: 'success' | 'failure' | 'cancelled' | 'timeout';
  exitCode: number;
  durationMs: number;
  /** `null` when telemetry is off. */
  traceId: string | null;
}

const VALUE_OPTIONS = new Set(['--task', '--timeout', '--kill-after', '--service']);
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const DEFAULT_KILL_AFTER_MS = 10_000;

/** What `tasklens run` was asked to do. */
export interface RunArguments {
  help: boolean;
  task: string;
  timeoutMs: number | undefined;
  killAfterMs: number;
  serviceName: string | undefined;
  json: boolean;
  command: string;
  args: string[];
}

/** Index of the first argument that belongs to the command (options stop there, or at `--`). */
function commandStart(argv: readonly string[]): { index: number; separator: boolean } {
  let index = 0;
  while (index < argv.length) {
    const argument = argv[index];
    if (argument === '--') return { index: index + 1, separator: true };
    if (!argument.startsWith('-')) break;
    index += VALUE_OPTIONS.has(argument) ? 2 : 1;
  }
  return { index, separator: false };
}

function durationOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const milliseconds = parseDuration(text);
  if (milliseconds === undefined) {
    throw new UsageError(`--${name} "${text}" is not a duration such as 500ms, 90s, 15m or 2h`);
  }
  return milliseconds;
}

/** Parses the arguments after `run`; throws a {@link UsageError} when they are wrong. */
export function parseRunArguments(argv: readonly string[]): RunArguments {
  const { index, separator } = commandStart(argv);
  const { values } = parseArgs({
    args: argv.slice(0, separator ? index - 1 : index),
    strict: true,
    allowPositionals: false,
    options: {
      task: { type: 'string' },
      timeout: { type: 'string' },
      'kill-after': { type: 'string' },
      service: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = argv.slice(index);
  const parsed = {
    help: values.help,
    task: values.task ?? '',
    timeoutMs: durationOption('timeout', values.timeout),
    killAfterMs: durationOption('kill-after', values['kill-after']) ?? DEFAULT_KILL_AFTER_MS,
    serviceName: values.service,
    json: values.json,
    command: command ?? '',
    args,
  };
  if (parsed.help) return parsed;
  if (parsed.task.trim() === '') throw new UsageError('--task NAME is required');
  if (parsed.command === '')
    throw new UsageError('no command given (tasklens run --task NAME -- COMMAND)');
  return parsed;
}

/** The command ended with a non-zero exit code or a signal. */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';

  constructor(readonly exitCode: number) {
    super(`command exited with code ${exitCode}`);
  }
}

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exitCodeOf(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const signalNumber = exit.signal === null ? undefined : constants.signals[exit.signal];
  return 128 + (signalNumber ?? 0);
}

function spawnFailureCode(error: unknown): number | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return EXIT_NOT_FOUND;
  if (code === 'EACCES' || code === 'EISDIR' || code === 'ENOEXEC') return EXIT_CANNOT_EXECUTE;
  return undefined;
}

/** SIGTERM now, SIGKILL after the grace period if the command is still running. */
function stopChild(child: ChildProcess, killAfterMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, killAfterMs);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

/**
 * `tasklens run`: runs a command as a task and exits with its exit code.
 *
 * @param argv - the arguments after `run`
 * @returns the exit code (see the usage text)
 *
 * @example
 * ```ts
 * process.exitCode = await runCommand(['--task', 'backup', '--timeout', '1h', '--', './backup.sh']);
 * ```
 */
export async function runCommand(
  argv: readonly string[],
  output: CommandOutput = processOutput,
): Promise<number> {
  const parsed = argumentsOrExitCode('run', USAGE, output, () => parseRunArguments(argv));
  if (typeof parsed === 'number') return parsed;

  const telemetry = startTelemetry({
    serviceName: parsed.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'tasklens-run',
    handleSignals: false,
  });
  const cancel = new AbortController();
  let child: ChildProcess | undefined;
  let exited: Promise<ChildExit> | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    child?.kill(signal);
    if (!cancel.signal.aborted) cancel.abort(new Error(`tasklens run received ${signal}`));
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  const startedAt = performance.now();
  let traceId: string | null = null;
  let exitCode: number;
  try {
    await runTask(
      {
        name: parsed.task,
        timeoutMs: parsed.timeoutMs,
        signal: cancel.signal,
        attributes: { 'process.executable.name': basename(parsed.command) },
      },
      ({ span, signal }) => {
        if (span.isRecording()) traceId = span.spanContext().traceId;
        const running = spawn(parsed.command, parsed.args, {
          stdio: 'inherit',
          env: injectTaskEnv(process.env),
        });
        child = running;
        exited = new Promise<ChildExit>((resolve, reject) => {
          running.once('error', reject);
          running.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
        });
        signal.addEventListener('abort', () => stopChild(running, parsed.killAfterMs), {
          once: true,
        });
        return exited.then((exit) => {
          const code = exitCodeOf(exit);
          span.setAttribute('process.exit.code', code);
          if (code !== 0) throw new CommandFailedError(code);
        });
      },
    );
    exitCode = EXIT_OK;
  } catch (error) {
    exitCode = await exitCodeAfter(error, exited, parsed, output);
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  }
  await telemetry.shutdown();
  if (parsed.json) {
    const summary: RunSummary = {
      task: parsed.task,
      outcome:
        exitCode === EXIT_OK
          ? 'success'
          : exitCode === EXIT_TIMEOUT
            ? 'timeout'
            : cancel.signal.aborted
              ? 'cancelled'
              : 'failure',
      exitCode,
      durationMs: Math.round(performance.now() - startedAt),
      traceId,
    };
    output.stderr(`${JSON.stringify(summary)}\n`);
  }
  return exitCode;
}

async function exitCodeAfter(
  error: unknown,
  exited: Promise<ChildExit> | undefined,
  parsed: RunArguments,
  output: CommandOutput,
): Promise<number> {
  if (error instanceof CommandFailedError) return error.exitCode;
  const spawnCode = spawnFailureCode(error);
  if (spawnCode !== undefined) {
    output.stderr(`tasklens run: cannot run "${parsed.command}": ${(error as Error).message}\n`);
    return spawnCode;
  }
  // Timeout or a forwarded signal: the task has ended; wait for the command itself to stop.
  const exit = await exited?.catch(() => undefined);
  if (error instanceof TaskTimeoutError) {
    output.stderr(
      `tasklens run: "${parsed.task}" timed out after ${formatDuration(error.timeoutMs)}\n`,
    );
    return EXIT_TIMEOUT;
  }
  if (exit !== undefined) return exitCodeOf(exit);
  output.stderr(`tasklens run: ${(error as Error).message}\n`);
  return 1;
}
