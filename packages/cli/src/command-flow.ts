import type { CommandOutput } from './command-output.js';
import { EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE } from './exit-codes.js';
import { BackendUnreachableError } from './http-json.js';

/**
 * Parses a command's arguments, or says why it stops here: bad arguments print the message and
 * the usage on stderr (exit code 2), `--help` prints the usage on stdout (exit code 0). Returns
 * the parsed arguments, or the exit code to stop with.
 */
export function argumentsOrExitCode<T extends { help: boolean }>(
  command: string,
  usage: string,
  output: CommandOutput,
  parse: () => T,
): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (error) {
    output.stderr(`tasklens ${command}: ${(error as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (!parsed.help) return parsed;
  output.stdout(usage);
  return EXIT_OK;
}

/**
 * Prints what `query` reads from a backend (Jaeger, Prometheus); an unreachable backend prints
 * its message on stderr and gives exit code 3.
 */
export async function printFromBackend(
  command: string,
  output: CommandOutput,
  query: () => Promise<string>,
): Promise<number> {
  try {
    output.stdout(await query());
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof BackendUnreachableError)) throw error;
    output.stderr(`tasklens ${command}: ${error.message}\n`);
    return EXIT_UNREACHABLE;
  }
}
