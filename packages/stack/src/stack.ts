import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { resolveStackBinaries } from './binaries.js';
import {
  DEFAULT_STACK_PORTS,
  STACK_HOST,
  gatewayResolver,
  stackComponents,
  tailSamplingEnv,
} from './components.js';
import { defaultStackStateDir, stackFilesDir } from './stack-files.js';
import type {
  ComponentContext,
  ComponentDefinition,
  ComponentRuntimeContext,
  StackStateFile,
} from './internal-types.js';
import {
  isSameProcess,
  processStartTicks,
  spawnDetached,
  terminateProcess,
} from './process-control.js';
import type {
  RunningStack,
  RestartComponentOptions,
  StackComponentName,
  StackComponentState,
  StackComponentStatus,
  StackEndpoints,
  StackPorts,
  StackStatus,
  StartStackOptions,
  StopStackResult,
  StoppedComponent,
} from './types.js';

const execFileAsync = promisify(execFile);

const STATE_FILE = 'stack.json';
const LOG_TAIL_LINES = 30;

/**
 * Default state directory of {@link startStack}: `<repository>/.tasklens/stack` in a tasklens
 * checkout; for an installed @tasklens/stack `$XDG_STATE_HOME/tasklens/stack`, else
 * `~/.local/state/tasklens/stack`.
 *
 * @example
 * ```ts
 * const status = await stackStatus(defaultStateDir());
 * ```
 */
export function defaultStateDir(): string {
  return defaultStackStateDir();
}

/** Endpoints of a stack listening on `ports`, with or without the metrics store. */
export function stackEndpoints(
  ports: StackPorts,
  metricsStore = false,
  withConsole = false,
): StackEndpoints {
  return {
    ...(withConsole ? { console: `http://${STACK_HOST}:${ports.console}` } : {}),
    ...(metricsStore
      ? {
          storeQuery: `http://${STACK_HOST}:${ports.storeQueryHttp}`,
          storeRule: `http://${STACK_HOST}:${ports.storeRuleHttp}`,
        }
      : {}),
    otlpHttp: `http://${STACK_HOST}:${ports.otlpHttp}`,
    otlpGrpc: `${STACK_HOST}:${ports.otlpGrpc}`,
    prometheus: `http://${STACK_HOST}:${ports.prometheus}`,
    jaegerQuery: `http://${STACK_HOST}:${ports.jaegerQueryHttp}`,
    collectorHealth: `http://${STACK_HOST}:${ports.collectorHealth}/`,
    alertmanager: `http://${STACK_HOST}:${ports.alertmanager}`,
  };
}

/** Endpoints of a recorded stack, on its recorded ports. */
function endpointsOf(state: StackStateFile): StackEndpoints {
  return stackEndpoints(
    { ...DEFAULT_STACK_PORTS, ...state.ports },
    state.metricsStore === true,
    state.components.some((component) => component.name === 'console'),
  );
}

function parseState(text: string): StackStateFile | undefined {
  try {
    const state = JSON.parse(text) as StackStateFile;
    return state.version === 1 && Array.isArray(state.components) ? state : undefined;
  } catch {
    return undefined;
  }
}

async function readState(stateDir: string): Promise<StackStateFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return parseState(text);
}

/**
 * Endpoints of the stack recorded in `stateDir`, read from its state file alone (whether or not
 * its processes still run): how a client finds the stack that `startStack` or `tasklens stack up`
 * started there, on whatever ports. `undefined` when no stack is recorded there.
 *
 * @example
 * ```ts
 * const jaeger = recordedStackEndpoints(defaultStateDir())?.jaegerQuery;
 * ```
 */
export function recordedStackEndpoints(stateDir: string): StackEndpoints | undefined {
  let text: string;
  try {
    text = readFileSync(join(resolve(stateDir), STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const state = parseState(text);
  return state === undefined ? undefined : endpointsOf(state);
}

async function writeState(stateDir: string, state: StackStateFile): Promise<void> {
  const file = join(stateDir, STATE_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/** Last lines of a log file, or a note that it cannot be read. */
export async function logTail(logFile: string, lines = LOG_TAIL_LINES): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${logFile})`;
  }
}

/** Whether `host:port` can be listened on: `free`, `in use`, or why not (an error code). */
function portState(host: string, port: number): Promise<string> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolvePort(error.code === 'EADDRINUSE' ? 'in use' : (error.code ?? error.message)),
    );
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolvePort('free'));
    });
  });
}

async function checkPorts(
  ports: StackPorts,
  definitions: readonly ComponentDefinition[],
): Promise<void> {
  const byPort = new Map<number, string>();
  for (const [name, port] of Object.entries(ports) as [keyof StackPorts, number][]) {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new Error(`port ${name} must be an integer from 1 to 65535, got ${String(port)}`);
    }
    const other = byPort.get(port);
    if (other !== undefined) {
      throw new Error(`ports ${other} and ${name} are both ${port}`);
    }
    byPort.set(port, name);
  }
  const busy: string[] = [];
  const unusable: string[] = [];
  for (const component of definitions) {
    const host = component.host ?? STACK_HOST;
    for (const name of component.ports) {
      const portHere = await portState(host, ports[name]);
      if (portHere === 'in use') {
        busy.push(`${host}:${ports[name]} (${component.name} ${name})`);
      } else if (portHere !== 'free') {
        unusable.push(`${host}:${ports[name]} (${component.name} ${name}): ${portHere}`);
      }
    }
  }
  if (unusable.length > 0) {
    throw new Error(`cannot listen on ${unusable.join(', ')}`);
  }
  if (busy.length > 0) {
    throw new Error(
      `ports already in use: ${busy.join(', ')}; stop what holds them (a stack left running: ` +
        '`tasklens stack down`) or choose other ports',
    );
  }
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function waitReady(component: StackComponentState, deadline: number): Promise<void> {
  for (;;) {
    if (await isReady(component.readyUrl)) {
      return;
    }
    if (!(await isSameProcess(component.pid, component.command, component.startTicks))) {
      throw new Error(
        `${component.name} exited during startup; last lines of ${component.logFile}:\n` +
          (await logTail(component.logFile)),
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${component.name} not ready at ${component.readyUrl} in time; last lines of ` +
          `${component.logFile}:\n${await logTail(component.logFile)}`,
      );
    }
    await sleep(200);
  }
}

function componentLogFile(stateDir: string, name: StackComponentName): string {
  return join(stateDir, 'logs', `${name}.log`);
}

/**
 * Starts one component's process with `command`, its environment and its log file. With a
 * launcher, waits until the launcher has exec'd `command`, so the recorded process is the
 * component's.
 */
async function startComponent(
  definition: ComponentDefinition,
  context: ComponentRuntimeContext,
  command: string[],
): Promise<StackComponentState> {
  const logFile = componentLogFile(context.stateDir, definition.name);
  const launcher = definition.launcher?.(context) ?? [];
  const { pid, startTicks } = await spawnDetached(
    [...launcher, ...command],
    { ...process.env, ...definition.env(context) },
    context.stateDir,
    logFile,
  );
  if (launcher.length > 0) {
    const deadline = Date.now() + 10_000;
    while (!(await isSameProcess(pid, command, startTicks))) {
      if ((await processStartTicks(pid)) !== startTicks || Date.now() > deadline) {
        throw new Error(
          `${definition.name}: ${launcher[0] ?? ''} did not start ${command[0] ?? ''}; last ` +
            `lines of ${logFile}:\n${await logTail(logFile)}`,
        );
      }
      await sleep(20);
    }
  }
  return {
    name: definition.name,
    pid,
    command,
    startTicks,
    logFile,
    readyUrl: definition.readyUrl(context),
  };
}

/**
 * The DNS resolver's agent needs a private mount namespace to bind its own /etc/hosts: root and
 * util-linux `unshare`. Fails, saying so, when a namespace cannot be made here.
 */
async function checkPrivateMountNamespace(): Promise<void> {
  const needs =
    'the gateway DNS resolver runs the agent in a private mount namespace with its own ' +
    '/etc/hosts, which needs root and util-linux unshare (and mount)';
  if (process.getuid?.() !== 0) {
    throw new Error(`${needs}; this process is not root`);
  }
  try {
    await execFileAsync('unshare', ['--mount', '--propagation', 'private', 'true']);
  } catch (error) {
    throw new Error(`${needs}; \`unshare --mount true\` failed: ${(error as Error).message}`);
  }
}

/**
 * Starts Alertmanager, Prometheus, Jaeger and the collector as detached processes on 127.0.0.1
 * with the repository's config files, and waits until each one is ready (Alertmanager and
 * Prometheus `/-/ready`, Jaeger query API, collector health check). With `gateway` set, two
 * gateway collectors and an agent collector take the collector's place (its ports are the
 * agent's); with `gateway.resolver` `dns` the agent runs under `unshare --mount` (root only). Prometheus sends its alerts to
 * this Alertmanager, which notifies the webhook of `alertWebhookUrl`. Logs, pids and generated files go to the state
 * directory, so {@link stopStack} can stop them later from another process.
 *
 * Fails, having stopped whatever it had started, when a binary is missing (the message says to
 * run `tasklens stack build`), a port is taken, a stack from the same state directory still
 * runs, or a component exits or is not ready in time (the message holds the tail of its log).
 *
 * @example
 * ```ts
 * const stack = await startStack({
 *   ports: { otlpHttp: 24318 },
 *   alertWebhookUrl: 'http://127.0.0.1:8080/alerts',
 * });
 * await fetch(`${stack.endpoints.otlpHttp}/v1/traces`, { method: 'POST', ... });
 * await stack.stop();
 * ```
 */
export async function startStack(options: StartStackOptions = {}): Promise<RunningStack> {
  const repoDir = resolve(options.repoDir ?? stackFilesDir());
  const stateDir = resolve(options.stateDir ?? defaultStateDir());
  const ports: StackPorts = { ...DEFAULT_STACK_PORTS, ...options.ports };
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  if (options.bearerToken !== undefined && options.bearerToken.trim() === '') {
    throw new Error('bearerToken must not be empty');
  }

  const previous = await readState(stateDir);
  if (previous !== undefined) {
    const alive: string[] = [];
    for (const component of previous.components) {
      if (await isSameProcess(component.pid, component.command, component.startTicks)) {
        alive.push(`${component.name} (pid ${component.pid})`);
      }
    }
    if (alive.length > 0) {
      throw new Error(
        `a stack from ${stateDir} is still running: ${alive.join(', ')}; stop it first ` +
          `(tasklens stack down --state-dir ${stateDir})`,
      );
    }
  }

  // Checked before anything starts, so a bad option fails fast.
  tailSamplingEnv(options.gateway);
  if (options.gateway !== undefined && gatewayResolver(options.gateway) === 'dns') {
    await checkPrivateMountNamespace();
  }
  const metricsStore = options.metricsStore === true;
  const metricsVia = options.metricsVia ?? 'otlp';
  if (metricsVia !== 'otlp' && metricsVia !== 'remote-write') {
    throw new Error(`metricsVia must be 'otlp' or 'remote-write', not ${String(metricsVia)}`);
  }
  const definitions = stackComponents({
    gateway: options.gateway,
    metricsStore,
    console: options.console !== undefined,
  });
  const binaries = await resolveStackBinaries(repoDir, options.binaries, process.env, {
    metricsStore,
  });
  await checkPorts(ports, definitions);
  await mkdir(join(stateDir, 'logs'), { recursive: true });

  const context: ComponentContext = {
    repoDir,
    stateDir,
    ports,
    binaries,
    bearerToken: options.bearerToken,
    gateway: options.gateway,
    configOptions: {
      alertWebhookUrl: options.alertWebhookUrl,
      alertGroupWait: options.alertGroupWait,
      alertGroupInterval: options.alertGroupInterval,
      evaluationInterval: options.evaluationInterval,
      rulesDir: options.rulesDir === undefined ? undefined : resolve(options.rulesDir),
      extraRuleFiles: options.extraRuleFiles?.map((file) => resolve(file)),
      metricsStore,
      metricsVia,
    },
    consoleScript: options.console?.script,
  };
  const state: StackStateFile = {
    version: 1,
    startedAt: new Date().toISOString(),
    ports,
    components: [],
    ...(options.gateway === undefined ? {} : { gateway: { ...options.gateway } }),
    ...(metricsStore ? { metricsStore } : {}),
    ...(metricsVia === 'otlp' ? {} : { metricsVia }),
  };
  try {
    for (const definition of definitions) {
      await definition.prepare?.(context);
      const logFile = componentLogFile(stateDir, definition.name);
      await writeFile(logFile, '');
      const command = [binaries[definition.binary], ...definition.args(context)];
      state.components.push(await startComponent(definition, context, command));
      // Recorded at once, so `stack down` can stop it even if this process dies mid-start.
      await writeState(stateDir, state);
    }
    const deadline = Date.now() + readyTimeoutMs;
    await Promise.all(state.components.map((component) => waitReady(component, deadline)));
  } catch (error) {
    await stopStack(stateDir);
    throw error;
  }

  return {
    stateDir,
    ports,
    endpoints: stackEndpoints(ports, metricsStore, options.console !== undefined),
    components: state.components.map((component) => ({ ...component })),
    stop: () => stopStack(stateDir),
  };
}

/**
 * Starts again one recorded component of the stack in `stateDir` that is no longer running (it
 * crashed, or was killed): the same command line, the environment {@link startStack} gave it
 * (computed from the recorded ports) and the same log file, appended to. Waits until it is ready
 * and records the new process, so {@link stopStack} and {@link stackStatus} follow it. Config files
 * and data from the first start are reused as they are.
 *
 * Fails when no stack is recorded in `stateDir`, the component is still running, or it exits or is
 * not ready in time (the message holds the tail of its log).
 *
 * @example
 * ```ts
 * process.kill(collectorPid, 'SIGKILL');
 * await restartStackComponent(stack.stateDir, 'collector');
 * ```
 */
export async function restartStackComponent(
  stateDir: string,
  name: StackComponentName,
  options: RestartComponentOptions = {},
): Promise<StackComponentState> {
  const directory = resolve(stateDir);
  const state = await readState(directory);
  const index = state?.components.findIndex((component) => component.name === name) ?? -1;
  const recorded = state?.components[index];
  const definition = stackComponents({
    gateway: state?.gateway,
    metricsStore: state?.metricsStore,
  }).find((candidate) => candidate.name === name);
  if (state === undefined || recorded === undefined || definition === undefined) {
    throw new Error(`no ${name} is recorded in ${directory}; start the stack first`);
  }
  if (await isSameProcess(recorded.pid, recorded.command, recorded.startTicks)) {
    throw new Error(`${name} (pid ${recorded.pid}) is still running; stop it before a restart`);
  }
  const context: ComponentRuntimeContext = {
    stateDir: directory,
    ports: state.ports,
    bearerToken: options.bearerToken,
    gateway: state.gateway,
    configOptions: { metricsStore: state.metricsStore, metricsVia: state.metricsVia },
  };
  const component = await startComponent(definition, context, recorded.command);
  state.components[index] = component;
  await writeState(directory, state);
  try {
    await waitReady(component, Date.now() + (options.readyTimeoutMs ?? 60_000));
  } catch (error) {
    await terminateProcess(component.pid, component.command, component.startTicks);
    throw error;
  }
  return { ...component };
}

/**
 * Stops the processes recorded in `stateDir` that are still the ones the stack started (same pid,
 * command line and start time): SIGTERM, then SIGKILL after `graceMs`. Anything else is left
 * alone. Removes the record afterwards; logs and data stay. Stopping a stack that is not running
 * is not an error.
 */
export async function stopStack(stateDir: string, graceMs = 10_000): Promise<StopStackResult> {
  const directory = resolve(stateDir);
  const state = await readState(directory);
  if (state === undefined) {
    return { stateDir: directory, components: [] };
  }
  // Reverse start order: the collector first, so it can flush to backends that are still up.
  const components: StoppedComponent[] = [];
  for (const component of [...state.components].reverse()) {
    const outcome = await terminateProcess(
      component.pid,
      component.command,
      component.startTicks,
      graceMs,
    );
    components.push({ name: component.name, pid: component.pid, outcome });
  }
  await rm(join(directory, STATE_FILE), { force: true });
  return { stateDir: directory, components: components.reverse() };
}

/** Reports which recorded processes still run and whether each one answers its ready URL. */
export async function stackStatus(stateDir: string): Promise<StackStatus> {
  const directory = resolve(stateDir);
  const state = await readState(directory);
  if (state === undefined) {
    return { stateDir: directory, recorded: false, components: [] };
  }
  const components = await Promise.all(
    state.components.map(async (component): Promise<StackComponentStatus> => {
      const running = await isSameProcess(component.pid, component.command, component.startTicks);
      return {
        name: component.name,
        pid: component.pid,
        running,
        ready: running && (await isReady(component.readyUrl)),
        readyUrl: component.readyUrl,
        logFile: component.logFile,
      };
    }),
  );
  return {
    stateDir: directory,
    recorded: true,
    ports: state.ports,
    endpoints: endpointsOf(state),
    metricsVia: state.metricsVia ?? 'otlp',
    components,
  };
}
