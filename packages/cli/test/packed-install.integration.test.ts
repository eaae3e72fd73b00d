/*
 * The packages as users get them: every published workspace packed with `npm pack` (@tasklens/stack
 * with the stack's config files, which @tasklens/cli runs for `tasklens stack`), the tarballs
 * installed into a scratch project outside the repository, and from there `npx tasklens stack up`,
 * a BullMQ producer and worker process written as the README says, their telemetry found in Jaeger
 * and Prometheus, an `npx tasklens run` found there too, then `npx tasklens stack status` and
 * `down`, once per Node.js and OTel line in INSTALL_LINES (see InstallLine in
 * support/packed-install.ts): Node 20 with OTel JS 2.x, Node 24 with OTel JS 3.x.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopStack } from '@tasklens/stack';
import type { StackEndpoints } from '@tasklens/stack';
import { eventually, requireRedis } from '@tasklens/test-utils';
import { getJson, promQuery } from './support/backend-queries.js';
import {
  createScratchProject,
  NODE_20_OTEL_2,
  node24Otel3,
  publishedPackageNames,
} from './support/packed-install.js';
import type { InstallLine, ScratchProject } from './support/packed-install.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/packed-install/', import.meta.url));
// Every line's stack in turn on the same ports: each ends with `stack down` before the next starts.
const PORT_BASE = 22300;
/** The Node.js and OTel lines the packed packages are installed for. */
const INSTALL_LINES: InstallLine[] = [NODE_20_OTEL_2, node24Otel3()];

interface JaegerSpanJson {
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  processID: string;
}
interface JaegerTraceJson {
  spans: JaegerSpanJson[];
  processes: Record<string, { serviceName: string }>;
}

describe.each(INSTALL_LINES)(
  'the packed packages installed outside the repository ($name)',
  (line) => {
    const queue = `packed-${randomBytes(4).toString('hex')}`;
    let project: ScratchProject;
    let stateHome: string;
    let stateDir: string;
    let endpoints: StackEndpoints;

    /** `npx tasklens ...args` in the scratch project, with the state home of this test. */
    const tasklens = (args: string[]) =>
      project.run('npx', ['--no', 'tasklens', ...args], { XDG_STATE_HOME: stateHome });

    beforeAll(async () => {
      await requireRedis();
      stateHome = await mkdtemp(join(tmpdir(), 'tasklens-packed-state-'));
      stateDir = join(stateHome, 'tasklens', 'stack');
      project = await createScratchProject(line, [
        join(FIXTURES, 'producer.mjs'),
        join(FIXTURES, 'worker.mjs'),
      ]);
    }, 300_000);

    afterAll(async () => {
      if (stateDir !== undefined) await stopStack(stateDir);
      await project?.remove();
      if (stateHome !== undefined) await rm(stateHome, { recursive: true, force: true });
    });

    it('holds every package with its README, LICENSE, CHANGELOG and the sources its maps name, and one @opentelemetry/api', async () => {
      for (const name of await publishedPackageNames()) {
        const installed = join(project.dir, 'node_modules', name);
        const files = await readdir(installed, { recursive: true });
        expect(files, name).toEqual(
          expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md']),
        );
        expect(
          files.filter((file) => file.endsWith('.tsbuildinfo')),
          name,
        ).toEqual([]);
        // Source and declaration maps lead a debugger or an editor to the TypeScript sources.
        const maps = files.filter((file) => file.endsWith('.map'));
        expect(maps.length, name).toBeGreaterThan(0);
        const unresolved = maps.flatMap((map) => {
          const { sources } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as {
            sources: string[];
          };
          return sources
            .map((source) => join(installed, dirname(map), source))
            .filter((source) => !existsSync(source));
        });
        expect(unresolved, name).toEqual([]);
      }
      const listed = await project.run('npm', ['ls', '@opentelemetry/api', '--all', '--parseable']);
      expect(listed.code, listed.stderr).toBe(0);
      const copies = [...new Set(listed.stdout.trim().split('\n'))];
      const api = join(project.dir, 'node_modules', '@opentelemetry', 'api');
      expect(copies).toEqual([api]);
      const { version } = JSON.parse(readFileSync(join(api, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(version).toMatch(line.expectedApiVersion);
    });

    it('ships the config files of the stack in @tasklens/stack, which the cli uses', async () => {
      const stackPackage = join(project.dir, 'node_modules', '@tasklens', 'stack');
      for (const file of [
        'otel-collector.yaml',
        'deploy/versions.json',
        'deploy/collector/builder-config.yaml',
        'deploy/prometheus/rules',
        'scripts/ensure-binaries.sh',
      ]) {
        expect(existsSync(join(stackPackage, 'stack-files', file)), file).toBe(true);
      }
      expect(existsSync(join(project.dir, 'node_modules', '@tasklens', 'cli', 'stack-files'))).toBe(
        false,
      );
      const help = await tasklens(['stack', '--help']);
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain(`The config files come from ${stackPackage}/stack-files.`);
      expect(help.stdout).toContain(`--state-dir DIR   logs, pids and data (default: ${stateDir})`);
    });

    it('tasklens stack build finds the binaries with the config files the package ships', async () => {
      const build = await tasklens(['stack', 'build']);
      expect(build.code, build.stderr).toBe(0);
      expect(build.stderr).toContain('binaries ready');
    }, 600_000);

    it('tasklens stack up names a missing binary and the command that gets it', async () => {
      const emptyCache = await mkdtemp(join(tmpdir(), 'tasklens-packed-cache-'));
      try {
        const up = await project.run(
          'npx',
          ['--no', 'tasklens', 'stack', 'up', '--port-base', String(PORT_BASE)],
          { XDG_STATE_HOME: stateHome, TASKLENS_CACHE_DIR: emptyCache },
        );
        expect(up.code).toBe(1);
        expect(up.stderr).toContain(`missing backend binaries: collector (${emptyCache}/bin/`);
        expect(up.stderr).toContain('run `npx tasklens stack build`');
      } finally {
        await rm(emptyCache, { recursive: true, force: true });
      }
    });

    it('tasklens stack up starts the stack with its state outside node_modules', async () => {
      const up = await tasklens(['stack', 'up', '--port-base', String(PORT_BASE), '--json']);
      expect(up.code, up.stderr).toBe(0);
      const started = JSON.parse(up.stdout) as {
        stateDir: string;
        ports: unknown;
        endpoints: StackEndpoints;
      };
      expect(started.stateDir).toBe(stateDir);
      expect(started.ports).toEqual(testStackPorts(PORT_BASE));
      expect(existsSync(join(stateDir, 'stack.json'))).toBe(true);
      endpoints = started.endpoints;
    }, 120_000);

    it('a producer and a worker process reach Jaeger and Prometheus through the collector', async () => {
      expect(endpoints, 'the stack did not start').toBeDefined();
      const telemetry = {
        QUEUE: queue,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.otlpHttp,
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
      };
      const worker = spawn(line.nodeBinary, ['worker.mjs'], {
        cwd: project.dir,
        env: { ...project.env, ...telemetry },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const workerExited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
      let workerOutput = '';
      worker.stdout.setEncoding('utf8').on('data', (chunk: string) => (workerOutput += chunk));

      const producer = await project.run(
        line.nodeBinary,
        ['--import', '@tasklens/node/register', 'producer.mjs'],
        { ...telemetry, OTEL_SERVICE_NAME: 'packed-producer' },
      );
      expect(producer.code, producer.stderr).toBe(0);
      await eventually('the worker completing the job', () =>
        Promise.resolve(workerOutput.includes('completed send-welcome-email') ? true : undefined),
      );
      worker.kill('SIGTERM');
      expect(await workerExited).toBe(0);

      const trace = await eventually('the worker process span in Jaeger', async () => {
        const url = new URL('/api/traces', endpoints.jaegerQuery);
        url.searchParams.set('service', 'packed-worker');
        url.searchParams.set('tags', JSON.stringify({ 'messaging.destination.name': queue }));
        url.searchParams.set('lookback', '1h');
        const body = (await getJson(url)) as { data: JaegerTraceJson[] };
        return body.data.find(
          (candidate) =>
            candidate.spans.some((span) => span.operationName === `process ${queue}`) &&
            candidate.spans.some((span) => span.operationName === `send ${queue}`),
        );
      });
      const send = trace.spans.find((span) => span.operationName === `send ${queue}`);
      const processSpan = trace.spans.find((span) => span.operationName === `process ${queue}`);
      expect(trace.processes[send?.processID ?? '']?.serviceName).toBe('packed-producer');
      expect(trace.processes[processSpan?.processID ?? '']?.serviceName).toBe('packed-worker');
      expect(processSpan?.references).toContainEqual(
        expect.objectContaining({ refType: 'CHILD_OF', spanID: send?.spanID }),
      );

      const attempts = await eventually('the attempt counted in Prometheus', async () => {
        const result = await promQuery(
          endpoints.prometheus,
          `task_duration_seconds_count{task_queue="${queue}",task_outcome="success"}`,
        );
        return result.length > 0 ? result : undefined;
      });
      expect(attempts.map((sample) => [sample.metric.job, sample.value[1]])).toEqual([
        ['packed-worker', '1'],
      ]);
    }, 120_000);

    it('tasklens run, as installed (its bundle), exports the run to Jaeger and Prometheus', async () => {
      expect(endpoints, 'the stack did not start').toBeDefined();
      const run = await project.run(
        'npx',
        ['--no', 'tasklens', 'run', '--task', 'packed-run', '--json', '--', 'true'],
        { OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.otlpHttp, OTEL_SERVICE_NAME: 'packed-cli' },
      );
      expect(run.code, run.stderr).toBe(0);
      const { traceId } = JSON.parse(run.stderr) as { traceId: string };

      const trace = await eventually('the run span in Jaeger', async () => {
        const url = new URL(`/api/traces/${traceId}`, endpoints.jaegerQuery);
        return ((await getJson(url)) as { data: JaegerTraceJson[] }).data[0];
      });
      expect(trace.spans.map((span) => span.operationName)).toEqual(['packed-run']);
      expect(trace.processes[trace.spans[0].processID]?.serviceName).toBe('packed-cli');

      const runs = await eventually('the run counted in Prometheus', async () => {
        const result = await promQuery(
          endpoints.prometheus,
          `task_duration_seconds_count{job="packed-cli",task_name="packed-run",task_outcome="success"}`,
        );
        return result.length > 0 ? result : undefined;
      });
      expect(runs.map((sample) => sample.value[1])).toEqual(['1']);

      // A failing run, found by `tasklens failures` with no URL: the Jaeger of the stack that
      // `stack up` recorded, on its --port-base, not the default port.
      const failing = await project.run(
        'npx',
        ['--no', 'tasklens', 'run', '--task', 'packed-failing-run', '--', 'false'],
        { OTEL_EXPORTER_OTLP_ENDPOINT: endpoints.otlpHttp, OTEL_SERVICE_NAME: 'packed-cli' },
      );
      expect(failing.code).toBe(1);
      const listed = await eventually('the failed run listed by tasklens failures', async () => {
        const failures = await tasklens(['failures', '--task', 'packed-failing-run', '--json']);
        if (failures.code !== 0) throw new Error(`tasklens failures: ${failures.stderr}`);
        const rows = JSON.parse(failures.stdout) as { task: string; service: string }[];
        return rows.length > 0 ? rows : undefined;
      });
      expect(listed.map((row) => [row.task, row.service])).toEqual([
        ['packed-failing-run', 'packed-cli'],
      ]);
    }, 120_000);

    it('tasklens stack status and down work from the project', async () => {
      const status = await tasklens(['stack', 'status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const { components, endpoints } = JSON.parse(status.stdout) as {
        components: { name: string; ready: boolean }[];
        endpoints: { console: string };
      };
      expect(components.map((component) => [component.name, component.ready])).toEqual([
        ['alertmanager', true],
        ['prometheus', true],
        ['jaeger', true],
        ['collector', true],
        ['console', true],
      ]);
      // The installed package serves the console's page it was published with, and its API
      // reads this stack.
      const page = await fetch(`${endpoints.console}/failures`);
      expect(page.status).toBe(200);
      const script = /src="(\/assets\/app\.js)"/.exec(await page.text())?.[1];
      expect((await fetch(`${endpoints.console}${script ?? '/none'}`)).status).toBe(200);
      const tasks = (await (await fetch(`${endpoints.console}/api/tasks?range=1h`)).json()) as {
        tasks: { task: string }[];
      };
      expect(tasks.tasks.map((row) => row.task)).toContain('packed-failing-run');

      const down = await tasklens(['stack', 'down']);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toContain('collector');
      const after = await tasklens(['stack', 'status']);
      expect(after.code).toBe(1);
      expect(after.stdout).toBe(`no stack recorded in ${stateDir}\n`);
    }, 60_000);
  },
);
