import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  buildStackBinaries,
  defaultStateDir,
  stackFilesDir,
  stackPortsFrom,
  stackStatus,
  startStack,
  stopStack,
} from '@tasklens/stack';
import type { StackStatus, StopStackResult } from '@tasklens/stack';

import { processOutput } from '../command-output.js';
import type { CommandOutput } from '../command-output.js';

/**
 * The `tasklens` command's file (dist/tasklens.js), which the stack runs to serve the console: the
 * same path from this file in src/ and in dist/.
 */
const TASKLENS_SCRIPT = fileURLToPath(new URL('../../dist/tasklens.js', import.meta.url));

function usage(): string {
  return `Usage: tasklens stack <up|down|status|build> [--state-dir DIR] [--port-base N] [--json]
       tasklens stack up [--gateway [--gateway-resolver static|dns]] [--metrics-store]
                     [--metrics-via otlp|remote-write] [--no-ui]

Runs the tasklens backend natively on 127.0.0.1: the OpenTelemetry Collector (OTLP on 4317/4318),
Prometheus (9090) with the tasklens rules, Alertmanager (9093; notifies the webhook in
deploy/alertmanager/alertmanager.yml, http://127.0.0.1:9094/alerts), Jaeger (query API on
16686) and the task console (\`tasklens ui\`, http://127.0.0.1:8765): tasks, failures grouped by
error, traces and alerts in the browser.

Commands:
  up       start the stack and wait until every component is ready
  down     stop the processes the stack started (and nothing else); the stored traces,
           metrics and the collector's queues stay in the state directory for the next up
  status   show which components run and answer their health checks
  build    install Alertmanager (Debian package; needs root) and build the collector,
           Jaeger, Prometheus and Thanos with Go into ~/.cache/tasklens ($TASKLENS_CACHE_DIR), once

Options:
  --state-dir DIR   logs, pids and data (default: ${defaultStateDir()})
  --port-base N     up: listen on the ports N to N+35 instead of the defaults
                    (OTLP/gRPC N, OTLP/HTTP N+1, Prometheus N+4, Jaeger query N+7,
                    Alertmanager N+11, gateways N+12 to N+17, metrics store N+18 to N+33,
                    console N+34, the collector's remote-write hop N+35);
                    down and status read the ports from the state directory
  --gateway         up: the scaled-out shape on loopback: an agent collector on the OTLP ports
                    (metrics straight to Prometheus, traces by trace id to the gateways) and two
                    gateway collectors (OTLP/gRPC 4417 and 4427) that tail-sample whole traces
                    into Jaeger: every trace with a failed attempt or an attempt slower than 5 s,
                    and 10 % of the rest (deploy/gateway/; TAIL_SAMPLING_PERCENTAGE,
                    TAIL_SAMPLING_SLOW_ATTEMPT_MS and TAIL_SAMPLING_DECISION_WAIT in the
                    environment change them); task metrics stay exact, whatever is sampled:
                    the SDK records them in process and the agent sends them on unsampled
                    (with --metrics-store, to the store)
  --gateway-resolver static|dns
                    up --gateway: how the agent finds the gateways (default static: a fixed
                    list; a gateway that is down keeps its trace ids, which wait in the agent's
                    queue). dns: the gateways listen on 127.0.0.2 and 127.0.0.3 (OTLP/gRPC
                    4417 both) and the agent resolves tasklens-gateways from a hosts file in the
                    state directory (agent/hosts), bound over /etc/hosts in a mount namespace of
                    its own, so taking a gateway out of that file takes it out of the ring;
                    needs root and util-linux unshare
  --metrics-store   up: send task metrics to a metrics store instead of Prometheus: two Thanos
                    Receive ingesters with replication factor 2 (router 10901), Thanos Query
                    (10910, the query API \`tasklens stats\` reads for this stack) and Thanos
                    Rule (the same rules, alerts to Alertmanager)
  --metrics-via otlp|remote-write
                    up: how the collector sends task metrics: otlp (default) to Prometheus's
                    OTLP receiver, or remote-write: Prometheus remote write 1.0 to Prometheus's
                    remote-write receiver (with --metrics-store, to the store's router),
                    through deploy/collector/remote-write.yaml, the file that points the
                    collector at any remote-write backend (REMOTE_WRITE_URL); the same series
                    and counts either way
  --no-ui           up: do not start the console (start it later with \`tasklens ui\`)
  --json            print the result as JSON
  -h, --help        show this help

Environment:
  TASKLENS_COLLECTOR_TOKEN   when set, \`up\` makes the collector's OTLP receivers require
                             "Authorization: Bearer <token>"

The config files come from ${stackFilesDir()}.
`;
}

function formatStatus(status: StackStatus): string {
  if (!status.recorded) {
    return `no stack recorded in ${status.stateDir}\n`;
  }
  const lines = status.components.map(
    (component) =>
      `${component.name.padEnd(16)} pid ${String(component.pid).padEnd(8)} ` +
      `${component.running ? 'running' : 'stopped'}${component.ready ? ', ready' : ''}  ${component.logFile}`,
  );
  const endpoints = status.endpoints;
  if (endpoints !== undefined) {
    // Prometheus and Jaeger built from their Go modules serve their APIs but no pages: their
    // links name an API answer; the console is where to look.
    lines.push(
      `Console ${endpoints.console === undefined ? 'not started (tasklens ui)' : `${endpoints.console}/`}`,
      `OTLP/HTTP ${endpoints.otlpHttp}  OTLP/gRPC ${endpoints.otlpGrpc}`,
      `Prometheus API ${endpoints.prometheus}/api/v1/targets  Jaeger API ${endpoints.jaegerQuery}/api/services`,
      `Alertmanager ${endpoints.alertmanager}/`,
    );
    if (endpoints.storeQuery !== undefined) {
      lines.push(`Metrics store query ${endpoints.storeQuery}  rules ${endpoints.storeRule ?? ''}`);
    }
    const via = status.metricsVia === 'remote-write' ? 'remote write' : 'OTLP';
    const to = endpoints.storeQuery === undefined ? 'Prometheus' : 'the metrics store';
    lines.push(`Task metrics go by ${via} to ${to}`);
  }
  return `${lines.join('\n')}\n`;
}

function formatStopped(result: StopStackResult): string {
  if (result.components.length === 0) {
    return `no stack recorded in ${result.stateDir}\n`;
  }
  return (
    result.components
      .map((component) => `${component.name} (pid ${component.pid}): ${component.outcome}`)
      .join('\n') + '\n'
  );
}

/**
 * `tasklens stack up|down|status|build [--state-dir DIR] [--port-base N] [--json]`: starts, stops or
 * inspects the native stack (`startStack` and friends of @tasklens/stack), or installs and builds
 * its binaries (`buildStackBinaries`). Never throws: errors are printed and turn into the exit
 * code.
 *
 * @param argv - the arguments after `stack`
 * @param output - where to write; default the process's stdout and stderr
 * @returns the exit code: 0 on success, 1 when the action failed or a component is not ready,
 *   2 on bad arguments
 *
 * @example
 * ```ts
 * process.exitCode = await stackCommand(['status', '--json']);
 * ```
 */
export async function stackCommand(
  argv: string[],
  output: CommandOutput = processOutput,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'state-dir': { type: 'string' },
        'port-base': { type: 'string' },
        gateway: { type: 'boolean', default: false },
        'metrics-store': { type: 'boolean', default: false },
        'metrics-via': { type: 'string' },
        'no-ui': { type: 'boolean', default: false },
        'gateway-resolver': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    output.stderr(`tasklens stack: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    output.stdout(usage());
    return 0;
  }
  const [action, ...extra] = positionals;
  if (action === undefined) {
    output.stderr(`tasklens stack: missing command (up, down, status or build)\n\n${usage()}`);
    return 2;
  }
  if (extra.length > 0) {
    output.stderr(`tasklens stack: unexpected argument "${extra.join(' ')}"\n\n${usage()}`);
    return 2;
  }
  if (values['state-dir'] === '') {
    output.stderr('tasklens stack: --state-dir must not be empty\n');
    return 2;
  }
  let ports;
  if (values['port-base'] !== undefined) {
    if (action !== 'up') {
      output.stderr('tasklens stack: --port-base applies to `up` only\n');
      return 2;
    }
    try {
      ports = stackPortsFrom(/^\d+$/.test(values['port-base']) ? Number(values['port-base']) : NaN);
    } catch (error) {
      output.stderr(`tasklens stack: --port-base: ${(error as Error).message}\n`);
      return 2;
    }
  }
  for (const flag of ['gateway', 'metrics-store', 'no-ui'] as const) {
    if (values[flag] && action !== 'up') {
      output.stderr(`tasklens stack: --${flag} applies to \`up\` only\n`);
      return 2;
    }
  }
  const metricsVia = values['metrics-via'];
  if (metricsVia !== undefined && action !== 'up') {
    output.stderr('tasklens stack: --metrics-via applies to `up` only\n');
    return 2;
  }
  if (metricsVia !== undefined && metricsVia !== 'otlp' && metricsVia !== 'remote-write') {
    output.stderr(
      `tasklens stack: --metrics-via must be otlp or remote-write, got "${metricsVia}"\n`,
    );
    return 2;
  }
  const resolver = values['gateway-resolver'];
  if (resolver !== undefined && !values.gateway) {
    output.stderr('tasklens stack: --gateway-resolver applies to `up --gateway` only\n');
    return 2;
  }
  if (resolver !== undefined && resolver !== 'static' && resolver !== 'dns') {
    output.stderr(`tasklens stack: --gateway-resolver must be static or dns, got "${resolver}"\n`);
    return 2;
  }
  const stateDir = values['state-dir'] ?? defaultStateDir();
  const print = (value: unknown, text: string): void => {
    output.stdout(values.json ? `${JSON.stringify(value, null, 2)}\n` : text);
  };

  try {
    switch (action) {
      case 'up': {
        const token = process.env.TASKLENS_COLLECTOR_TOKEN;
        const stack = await startStack({
          stateDir,
          ports,
          ...(values.gateway ? { gateway: resolver === undefined ? {} : { resolver } } : {}),
          ...(token === undefined || token === '' ? {} : { bearerToken: token }),
          ...(values['metrics-store'] ? { metricsStore: true } : {}),
          ...(metricsVia === undefined ? {} : { metricsVia }),
          ...(values['no-ui'] ? {} : { console: { script: TASKLENS_SCRIPT } }),
        });
        print(
          { stateDir: stack.stateDir, ports: stack.ports, endpoints: stack.endpoints },
          formatStatus(await stackStatus(stack.stateDir)),
        );
        return 0;
      }
      case 'down': {
        const result = await stopStack(stateDir);
        print(result, formatStopped(result));
        return 0;
      }
      case 'status': {
        const status = await stackStatus(stateDir);
        print(status, formatStatus(status));
        const healthy = status.recorded && status.components.every((component) => component.ready);
        return healthy ? 0 : 1;
      }
      case 'build':
        return await buildStackBinaries();
      default:
        output.stderr(
          `tasklens stack: unknown command "${action}" (expected up, down, status or build)\n\n${usage()}`,
        );
        return 2;
    }
  } catch (error) {
    output.stderr(`tasklens stack ${action}: ${(error as Error).message}\n`);
    return 1;
  }
}
