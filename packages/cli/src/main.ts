import { processOutput } from './command-output.js';
import type { CommandOutput } from './command-output.js';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';

type Command = (argv: string[], output: CommandOutput) => Promise<number>;

// Each command's module is imported only when that command runs: a cron job's `tasklens run` pays
// at every start for what it loads, and needs neither the backend clients nor the stack supervisor.
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  run: {
    load: async () => (await import('./commands/run.js')).runCommand,
    summary: 'run a script or cron job as a task (span, metrics, exit code)',
  },
  stats: {
    load: async () => (await import('./commands/stats.js')).statsCommand,
    summary:
      'per task rate, failure %, p95 duration, wait and chain latency, last success (Prometheus)',
  },
  failures: {
    load: async () => (await import('./commands/failures.js')).failuresCommand,
    summary: 'list recently failed tasks with their traces (Jaeger)',
  },
  ui: {
    load: async () => (await import('./commands/ui.js')).uiCommand,
    summary: 'the task console in the browser: tasks, failures by error, traces, alerts',
  },
  stack: {
    load: async () => (await import('./commands/stack.js')).stackCommand,
    summary:
      'start, stop, inspect or build the native collector, Prometheus, Alertmanager, Jaeger, console',
  },
};

const USAGE = `Usage: tasklens <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Run \`tasklens <command> --help\` for a command's options. Exit codes: 0 success, 1 the command
found a problem, 2 bad arguments, 3 a backend could not be reached; \`run\` exits with the
command's own code.
`;

/**
 * The tasklens command line: dispatches to a command and returns the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: string[], output: CommandOutput = processOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? output.stderr : output.stdout)(USAGE);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    output.stderr(`tasklens: unknown command "${name}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const run = await command.load();
  return run(rest, output);
}
