import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendUrl, DEFAULT_BACKEND_URLS } from '../backend-url.js';
import { argumentsOrExitCode } from '../command-flow.js';
import { processOutput } from '../command-output.js';
import type { CommandOutput } from '../command-output.js';
import type { ConsoleBackendUrls } from '../console/console-api.js';
import { startConsoleServer } from '../console/console-server.js';
import { EXIT_FAILED } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';

/** The console's default port, the stack's `console` port. */
const DEFAULT_PORT = Number(new URL(DEFAULT_BACKEND_URLS.console).port);

/** The built page, the same path from this file in src/ and in dist/. */
const ASSETS_DIR = fileURLToPath(new URL('../../dist/console-page/', import.meta.url));

const USAGE = `Usage: tasklens ui [--port N] [--host ADDRESS] [--state-dir DIR]
                   [--prometheus-url URL] [--jaeger-url URL] [--alertmanager-url URL]

The task console in the browser: every task with its runs, failure %, durations, queue wait and
chain latency; failures grouped by task and error with their latest trace; each trace as a
waterfall of its send and attempts; the alerts that fire. \`tasklens stack up\` starts it too.

Options:
  --port N                 listen on port N (default ${DEFAULT_PORT})
  --host ADDRESS           listen on ADDRESS (default 127.0.0.1). Any other address shows the
                           console and the telemetry it reads to whoever reaches it: set
                           TASKLENS_CONSOLE_TOKEN (or --token-file) so the API asks for it
  --token-file FILE        the bearer token the API requires, read from FILE (first line)
  --prometheus-url URL     default $TASKLENS_PROMETHEUS_URL, else the recorded stack's Prometheus
                           (its metrics store's query API when it runs one), else ${DEFAULT_BACKEND_URLS.prometheus}
  --jaeger-url URL         default $TASKLENS_JAEGER_URL, else the recorded stack's, else
                           ${DEFAULT_BACKEND_URLS.jaeger}
  --alertmanager-url URL   default $TASKLENS_ALERTMANAGER_URL, else the recorded stack's, else
                           ${DEFAULT_BACKEND_URLS.alertmanager}
  --state-dir DIR          read the backends of the stack recorded in DIR
  -h, --help               show this help

Environment:
  TASKLENS_CONSOLE_TOKEN   the bearer token the API requires (open the console at
                           http://HOST:PORT/#token=TOKEN once; the page keeps it for the tab)

Runs until interrupted. Exit code: 0 after SIGINT or SIGTERM, 1 when it cannot listen, 2 on bad
arguments.
`;

interface UiArguments {
  help: boolean;
  host: string;
  port: number;
  token: string | undefined;
  backends: ConsoleBackendUrls;
}

function readToken(file: string | undefined): string | undefined {
  let token = process.env.TASKLENS_CONSOLE_TOKEN;
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8').split('\n')[0];
    } catch (error) {
      throw new UsageError(`--token-file: ${(error as Error).message}`);
    }
  }
  if (token !== undefined && token.trim() === '') {
    throw new UsageError('the console token must not be empty');
  }
  return token?.trim();
}

function parseUiArguments(argv: string[]): UiArguments {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      host: { type: 'string', default: '127.0.0.1' },
      'token-file': { type: 'string' },
      'prometheus-url': { type: 'string' },
      'jaeger-url': { type: 'string' },
      'alertmanager-url': { type: 'string' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const port = /^\d+$/.test(values.port) ? Number(values.port) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port "${values.port}" is not a port number from 0 to 65535`);
  }
  if (values.host.trim() === '') throw new UsageError('--host must not be empty');
  const stateDir = values['state-dir'];
  return {
    help: values.help,
    host: values.host,
    port,
    token: readToken(values['token-file']),
    backends: {
      prometheus: backendUrl('prometheus', values['prometheus-url'], stateDir),
      jaeger: backendUrl('jaeger', values['jaeger-url'], stateDir),
      alertmanager: backendUrl('alertmanager', values['alertmanager-url'], stateDir),
    },
  };
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

/**
 * `tasklens ui`: serves the task console until SIGINT or SIGTERM.
 *
 * @param argv - the arguments after `ui`
 * @returns the exit code: 0 once stopped, 1 when it cannot listen, 2 on bad arguments
 */
export async function uiCommand(
  argv: string[],
  output: CommandOutput = processOutput,
): Promise<number> {
  const options = argumentsOrExitCode('ui', USAGE, output, () => parseUiArguments(argv));
  if (typeof options === 'number') return options;
  if (!LOOPBACK.test(options.host)) {
    output.stderr(
      `tasklens ui: warning: listening on ${options.host}, not loopback: whoever reaches it sees ` +
        `task names, errors and traces${options.token === undefined ? ', and no token is set (TASKLENS_CONSOLE_TOKEN)' : ''}\n`,
    );
  }
  let running;
  try {
    running = await startConsoleServer({ ...options, assetsDir: ASSETS_DIR });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${options.port} on ${options.host} is in use (another console? choose --port)`
        : code === 'ENOENT'
          ? `the console's page is not built in ${ASSETS_DIR} (npm run build)`
          : (error as Error).message;
    output.stderr(`tasklens ui: ${why}\n`);
    return EXIT_FAILED;
  }
  const { prometheus, jaeger, alertmanager } = options.backends;
  output.stdout(
    `tasklens console: ${running.url}\n` +
      `  reading Prometheus ${prometheus}, Jaeger ${jaeger}, Alertmanager ${alertmanager}\n`,
  );
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  await running.close();
  return 0;
}
