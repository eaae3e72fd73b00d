/*
 * One chaos run: a producer and a worker process on BullMQ through the real native stack, while
 * the collector, Jaeger and Prometheus are each killed -9 and restarted, and then the worker is
 * killed -9 mid-job. After each phase it counts, from what the processes wrote down, what
 * reached Jaeger and Prometheus.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { restartStackComponent, stackStatus, startStack } from '@tasklens/stack';
import type { RunningStack, StackComponentName } from '@tasklens/stack';
import { findWorkerSpans, RunCounters, SPOOL_METRICS } from './backend-counts.js';
import type { ChaosOptions } from './chaos-options.js';
import { historyLost, phaseLost } from './chaos-result.js';
import type {
  ChaosResult,
  Count,
  HistoryResult,
  LostAttempt,
  PhaseResult,
} from './chaos-result.js';
import { directoryBytes } from './directory-size.js';
import { residentBytes } from './process-memory.js';
import { RangeSampler } from './range-sampler.js';
import { readAttempts, readJobs, readRecentAttempts, unsettledJobs } from './run-records.js';
import type { AttemptRecord } from './run-records.js';
import { eventually, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';

const HERE = fileURLToPath(new URL('./', import.meta.url));
/** The worker's BullMQ lock: a killed worker's job is found stalled about this long after. */
const LOCK_MS = 5_000;
/** An attempt is killed mid-job when at least this much of its work is left. */
const KILL_MARGIN_MS = 50;

interface Phase {
  name: string;
  disruption: string;
  outageMs: number;
  component?: StackComponentName;
}

function phasesOf(options: ChaosOptions): Phase[] {
  return [
    {
      name: 'collector',
      disruption: 'collector kill -9',
      outageMs: options.collectorOutageMs,
      component: 'collector',
    },
    {
      name: 'jaeger',
      disruption: 'Jaeger kill -9',
      outageMs: options.jaegerOutageMs,
      component: 'jaeger',
    },
    {
      name: 'prometheus',
      disruption: 'Prometheus kill -9',
      outageMs: options.prometheusOutageMs,
      component: 'prometheus',
    },
    { name: 'worker', disruption: 'worker kill -9 mid-job', outageMs: options.workerOutageMs },
  ];
}

class ChaosRun {
  readonly queue = `chaos-${randomBytes(4).toString('hex')}`;
  readonly startedAt = Date.now();
  private readonly jobsFile: string;
  private readonly attemptsFile: string;
  private readonly counters: RunCounters;
  private readonly foundSpans = new Set<string>();
  private readonly memory: RangeSampler;
  private readonly spoolSize: RangeSampler;
  private worker: NodeProcess | undefined;
  private producer: NodeProcess | undefined;
  private workerCount = 0;
  private readonly instanceOfPid = new Map<number, string>();
  private previousAttempts: Count = { expected: 0, found: 0 };
  private previousLost = 0;
  private previousSpool: PhaseResult['spool'] = {};
  /** Ended attempts of the jobs whose trace was complete at their phase's end. */
  private readonly completeTraces = new Map<string, AttemptRecord[]>();
  /** When each phase's counting ended, and the attempt total Prometheus had then. */
  private readonly phaseEnds: { at: number; attempts: number }[] = [];

  constructor(
    private readonly options: ChaosOptions,
    private readonly stack: RunningStack,
    private readonly directory: string,
    private readonly log: (line: string) => void,
  ) {
    this.jobsFile = join(directory, 'jobs.jsonl');
    this.attemptsFile = join(directory, 'attempts.jsonl');
    this.counters = new RunCounters(stack.endpoints.prometheus, this.startedAt);
    this.memory = new RangeSampler(async () => {
      const pid = this.worker?.child.pid;
      return pid === undefined ? undefined : residentBytes(pid);
    });
    // The worker service's folder of the spool (the spool makes one per service).
    this.spoolSize = new RangeSampler(() =>
      directoryBytes(join(this.directory, 'spool', 'chaos-worker')),
    );
  }

  /** Both processes share one spool directory, where @tasklens/node keeps a folder per service. */
  private telemetryEnv(): Record<string, string> {
    return {
      QUEUE: this.queue,
      TASKLENS_SPOOL_ENABLED: 'true',
      TASKLENS_SPOOL_DIR: join(this.directory, 'spool'),
    };
  }

  startWorker(): void {
    this.workerCount += 1;
    const instance = `chaos-worker-${this.workerCount}-${this.queue}`;
    this.worker = startNodeProcess(
      [join(HERE, 'chaos-worker.mjs')],
      this.stack.endpoints.otlpHttp,
      {
        ...this.telemetryEnv(),
        OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${instance}`,
        ATTEMPTS_FILE: this.attemptsFile,
        CONCURRENCY: String(this.options.concurrency),
        LOCK_MS: String(LOCK_MS),
      },
    );
    this.instanceOfPid.set(this.worker.child.pid ?? -1, instance);
  }

  async stopWorker(): Promise<void> {
    this.worker?.child.kill('SIGTERM');
    await this.worker?.exited;
    this.worker = undefined;
  }

  /** Looks up again everything found at the end of each phase. */
  async history(): Promise<HistoryResult> {
    const attempts = [...this.completeTraces.values()].flat();
    const found = new Set<string>();
    await findWorkerSpans(this.stack.endpoints.jaegerQuery, attempts, found);
    const stillComplete = [...this.completeTraces.values()].filter((jobAttempts) =>
      jobAttempts.every((attempt) => found.has(attempt.span)),
    ).length;
    let unchangedTotals = 0;
    for (const end of this.phaseEnds) {
      if ((await this.counters.attempts(this.queue, end.at)) >= end.attempts) unchangedTotals += 1;
    }
    return {
      traces: { expected: this.completeTraces.size, found: stillComplete },
      attemptTotals: { expected: this.phaseEnds.length, found: unchangedTotals },
    };
  }

  async run(): Promise<PhaseResult[]> {
    await mkdir(join(this.directory, 'spool'), { recursive: true });
    this.startWorker();
    const results: PhaseResult[] = [];
    try {
      for (const phase of phasesOf(this.options)) {
        results.push(await this.runPhase(phase));
      }
    } finally {
      this.memory.stop();
      this.spoolSize.stop();
      this.producer?.child.kill('SIGKILL');
      await this.stopWorker();
    }
    return results;
  }

  private async runPhase(phase: Phase): Promise<PhaseResult> {
    this.log(
      `[${phase.name}] ${this.options.rate} tasks/s, steady for ${this.options.steadyMs} ms`,
    );
    const producer = startNodeProcess(
      [join(HERE, 'chaos-producer.mjs')],
      this.stack.endpoints.otlpHttp,
      {
        ...this.telemetryEnv(),
        PHASE: phase.name,
        RATE: String(this.options.rate),
        JOBS_FILE: this.jobsFile,
      },
    );
    this.producer = producer;
    await this.memory.window(`${phase.name}:before`);
    await this.spoolSize.window(`${phase.name}:before`);
    await sleep(this.options.steadyMs);

    await this.memory.window(`${phase.name}:during`);
    await this.spoolSize.window(`${phase.name}:during`);
    let killedPid: number | undefined;
    if (phase.component === undefined) {
      killedPid = await this.killWorkerMidJob();
    } else {
      await this.killComponent(phase.component);
    }
    this.log(`[${phase.name}] ${phase.disruption}; down for ${phase.outageMs} ms`);
    await sleep(phase.outageMs);
    if (phase.component === undefined) {
      this.startWorker();
    } else {
      await restartStackComponent(this.stack.stateDir, phase.component);
    }
    this.log(`[${phase.name}] restarted; steady for ${this.options.steadyMs} ms`);
    await sleep(this.options.steadyMs);
    producer.child.kill('SIGTERM');
    await producer.exited;
    this.producer = undefined;
    await this.memory.window(`${phase.name}:after`);
    await this.spoolSize.window(`${phase.name}:after`);

    const jobs = (await readJobs(this.jobsFile)).filter((job) => job.phase === phase.name);
    const unsettled = await eventually(
      `every job of the ${phase.name} phase running to its last attempt`,
      async () => {
        const left = unsettledJobs(jobs, await readAttempts(this.attemptsFile));
        return left.length === 0 ? left : undefined;
      },
      60_000 + 3 * LOCK_MS,
    ).catch(async () => unsettledJobs(jobs, await readAttempts(this.attemptsFile)));
    this.log(`[${phase.name}] ${jobs.length - unsettled.length}/${jobs.length} jobs settled`);

    const telemetry = await this.countTelemetry(
      phase,
      jobs.map((job) => job.job),
      killedPid,
    );
    return {
      name: phase.name,
      disruption: phase.disruption,
      tasks: { expected: jobs.length, found: jobs.length - unsettled.length },
      ...telemetry,
      rss: {
        before: this.memory.range(`${phase.name}:before`),
        during: this.memory.range(`${phase.name}:during`),
      },
      spoolMaxBytes: Math.max(
        ...[`${phase.name}:during`, `${phase.name}:after`].map(
          (window) => this.spoolSize.range(window)?.max ?? 0,
        ),
      ),
    };
  }

  private async killComponent(name: StackComponentName): Promise<void> {
    const status = await stackStatus(this.stack.stateDir);
    const component = status.components.find((candidate) => candidate.name === name);
    if (component?.running !== true) throw new Error(`${name} is not running before its kill`);
    process.kill(component.pid, 'SIGKILL');
    await eventually(`${name} (pid ${component.pid}) gone after kill -9`, async () => {
      const after = await stackStatus(this.stack.stateDir);
      return after.components.find((candidate) => candidate.name === name)?.running === true
        ? undefined
        : true;
    });
  }

  /** Kills the worker with SIGKILL at a moment it runs an attempt; returns its pid. */
  private async killWorkerMidJob(): Promise<number> {
    const worker = this.worker;
    const pid = worker?.child.pid;
    if (worker === undefined || pid === undefined) throw new Error('no worker is running');
    await eventually(
      'the worker running an attempt',
      async () => {
        const recent = await readRecentAttempts(this.attemptsFile);
        const running = recent.some(
          (attempt) =>
            attempt.pid === pid &&
            attempt.endedAt === undefined &&
            attempt.startedAt + attempt.workMs > Date.now() + KILL_MARGIN_MS,
        );
        if (running) worker.child.kill('SIGKILL');
        return running ? true : undefined;
      },
      30_000,
    );
    await worker.exited;
    this.worker = undefined;
    return pid;
  }

  private async countTelemetry(
    phase: Phase,
    jobIds: string[],
    killedPid: number | undefined,
  ): Promise<Omit<PhaseResult, 'name' | 'disruption' | 'tasks' | 'rss' | 'spoolMaxBytes'>> {
    const phaseJobs = new Set(jobIds);
    const allAttempts = await readAttempts(this.attemptsFile);
    const attempts = allAttempts.filter((attempt) => phaseJobs.has(attempt.job));
    const ended = attempts.filter((attempt) => attempt.endedAt !== undefined);
    const lost = attempts.filter(
      (attempt) => attempt.endedAt === undefined && attempt.pid === killedPid,
    );
    const endedInRun = allAttempts.filter((attempt) => attempt.endedAt !== undefined);

    let unexported = { spans: new Set<string>(), attempts: 0 };
    let attemptsFound = 0;
    let lostFound = 0;
    const lastPass = { traces: 0, ms: 0 };
    const complete = async (): Promise<boolean> => {
      const passStarted = Date.now();
      lastPass.traces = await findWorkerSpans(
        this.stack.endpoints.jaegerQuery,
        ended,
        this.foundSpans,
      );
      lastPass.ms = Date.now() - passStarted;
      unexported = await this.unexportedAtKill(endedInRun, killedPid);
      const byInstance = await this.counters.attemptsByInstance(this.queue);
      attemptsFound = [...byInstance.values()].reduce((sum, value) => sum + value, 0);
      lostFound = (await this.counters.lostAttempts(this.queue)) - this.previousLost;
      const spansMissing = ended.filter(
        (attempt) => !this.foundSpans.has(attempt.span) && !unexported.spans.has(attempt.span),
      ).length;
      return (
        spansMissing === 0 &&
        attemptsFound + unexported.attempts >= endedInRun.length &&
        lostFound >= lost.length
      );
    };
    this.log(`[${phase.name}] waiting up to ${this.options.telemetryWaitMs} ms for the telemetry`);
    await eventually(
      `the telemetry of the ${phase.name} phase in Jaeger and Prometheus`,
      async () => ((await complete()) ? true : undefined),
      this.options.telemetryWaitMs,
    ).catch(() => complete());
    this.log(
      `[${phase.name}] last Jaeger pass looked up ${lastPass.traces} traces in ${lastPass.ms} ms`,
    );

    const byJob = new Map<string, AttemptRecord[]>();
    for (const attempt of ended) {
      if (unexported.spans.has(attempt.span)) continue;
      byJob.set(attempt.job, [...(byJob.get(attempt.job) ?? []), attempt]);
    }
    const missingTraces = jobIds.filter((job) =>
      (byJob.get(job) ?? []).some((attempt) => !this.foundSpans.has(attempt.span)),
    );
    for (const job of jobIds) {
      const jobAttempts = byJob.get(job) ?? [];
      if (jobAttempts.every((attempt) => this.foundSpans.has(attempt.span))) {
        this.completeTraces.set(job, jobAttempts);
      }
    }
    this.phaseEnds.push({ at: Date.now(), attempts: attemptsFound });
    const spool = await this.spoolIncrease();
    // Cumulative over the run: Prometheus counts are per process since it started.
    const expectedAttempts = endedInRun.length - unexported.attempts;
    const result = {
      traces: { expected: jobIds.length, found: jobIds.length - missingTraces.length },
      attempts: {
        expected: expectedAttempts - this.previousAttempts.expected,
        found: attemptsFound - this.previousAttempts.found,
      },
      unexportedAtKill: { spans: unexported.spans.size, attempts: unexported.attempts },
      lostWithWorker: lost.map((attempt) => this.explainLost(attempt, attempts)),
      lostCounted: { expected: lost.length, found: lostFound },
      spool,
      missingTraces: missingTraces.slice(0, 5),
    };
    this.previousAttempts = { expected: expectedAttempts, found: attemptsFound };
    this.previousLost += lostFound;
    return result;
  }

  /**
   * What the killed worker had ended but not exported yet: its attempts that ended after the
   * last one of its spans Jaeger has (spans leave in end order, in batches), and the attempts it
   * ended beyond the last cumulative count Prometheus has from it.
   */
  private async unexportedAtKill(
    endedInRun: AttemptRecord[],
    killedPid: number | undefined,
  ): Promise<{ spans: Set<string>; attempts: number }> {
    if (killedPid === undefined) return { spans: new Set(), attempts: 0 };
    const ofKilled = endedInRun.filter((attempt) => attempt.pid === killedPid);
    const lastExported = Math.max(
      0,
      ...ofKilled
        .filter((attempt) => this.foundSpans.has(attempt.span))
        .map((attempt) => attempt.endedAt ?? 0),
    );
    const spans = new Set(
      ofKilled
        .filter((attempt) => (attempt.endedAt ?? 0) > lastExported)
        .filter((attempt) => !this.foundSpans.has(attempt.span))
        .map((attempt) => attempt.span),
    );
    const instance = this.instanceOfPid.get(killedPid) ?? '';
    const counted = (await this.counters.attemptsByInstance(this.queue)).get(instance) ?? 0;
    return { spans, attempts: Math.max(0, ofKilled.length - counted) };
  }

  private explainLost(attempt: AttemptRecord, phaseAttempts: AttemptRecord[]): LostAttempt {
    const next = phaseAttempts
      .filter((other) => other.job === attempt.job && other.attempt > attempt.attempt)
      .sort((a, b) => a.attempt - b.attempt)[0];
    return {
      job: attempt.job,
      attempt: attempt.attempt,
      trace: attempt.trace,
      pid: attempt.pid,
      next:
        next === undefined
          ? undefined
          : {
              attempt: next.attempt,
              pid: next.pid,
              outcome: next.outcome,
              inJaeger: this.foundSpans.has(next.span),
            },
    };
  }

  private async spoolIncrease(): Promise<PhaseResult['spool']> {
    const increase: PhaseResult['spool'] = {};
    for (const [key, metric] of Object.entries(SPOOL_METRICS) as [
      keyof typeof SPOOL_METRICS,
      string,
    ][]) {
      const total = await this.counters.total(metric);
      if (total !== undefined) increase[key] = total - (this.previousSpool[key] ?? 0);
      this.previousSpool[key] = total;
    }
    return increase;
  }
}

/**
 * Runs the chaos suite on a stack of its own (on `options.ports`, state in a temporary
 * directory) and returns each phase's numbers; progress goes to `log`. Needs Redis on
 * 127.0.0.1:6379, the stack's binaries (`bash scripts/setup.sh`) and a build (`npm run build`).
 */
export async function runChaos(
  options: ChaosOptions,
  log: (line: string) => void,
): Promise<ChaosResult> {
  const directory = await mkdtemp(join(tmpdir(), 'tasklens-chaos-'));
  const stack = await startStack({ stateDir: join(directory, 'stack'), ports: options.ports });
  const run = new ChaosRun(options, stack, directory, log);
  let result: ChaosResult;
  try {
    const phases = await run.run();
    log('after all phases: looking up again what was found at the end of each phase');
    result = { queue: run.queue, options, phases, history: await run.history(), directory };
  } finally {
    await stack.stop();
    const queue = new Queue(run.queue, { connection: { host: '127.0.0.1', port: 6379 } });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  if (!result.phases.some(phaseLost) && !historyLost(result.history)) {
    await rm(directory, { recursive: true, force: true });
  }
  return result;
}
