/*
 * Lost attempts end to end, on the real collector, Prometheus and Jaeger binaries and the three
 * brokers: a producer process sends tasks at RATE a second; a worker process runs them and is
 * killed with SIGKILL in the middle of its jobs, as KILL_PLAN says, a fresh worker started after
 * each kill. Every attempt that was running when its worker died must be in Jaeger as one span
 * with task.outcome=lost (ERROR status, the broker's error.type, the killed attempt's number) and
 * counted in Prometheus's task_duration_seconds_count{task_outcome="lost"}; there are exactly as
 * many lost attempts as the test killed; no attempt that succeeded is reported as lost.
 *
 * The truth is what the worker fixture prints of each delivery, read from the broker's own
 * fields and not from tasklens: which ids each process started and finished, and which deliveries
 * the broker marks as a repeat (BullMQ's stall counter, AMQP's redelivered, JetStream's delivery
 * count). Most kills come after a freeze (SIGUSR2: from then on no task ends, new ones start and
 * hang too) of FREEZE_MS, longer than the worker's export intervals: every task it has is then
 * mid-job when it dies, and whatever it finished before is exported, so the lost attempts are
 * exactly its running ones and every success is in Jaeger and Prometheus. One kill per broker
 * comes unfrozen, in the middle of acks, completions and exports: its running attempts must be
 * lost; an attempt whose end it printed but whose ack or completion did not reach the broker is
 * lost too (the broker repeats it), and the successes of its last moments may never be exported.
 * Across all kills, the lost spans are exactly the deliveries the broker repeated.
 *
 * The killed attempts come back by the broker's own mechanism: BullMQ's stall check (lock 2 s,
 * checked every second), RabbitMQ's requeue when the connection drops, JetStream's ack wait
 * (ACK_WAIT_MS). Nothing is timed: the test waits for events and numbers, with limits.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { eventually, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { JaegerClient } from '../src/jaeger-client.js';
import type { JaegerSpan, JaegerTrace } from '../src/jaeger-client.js';
import { promQuery } from './support/backend-queries.js';
import { BROKER_CHECKS } from './support/broker-reachable.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SUFFIX = randomBytes(4).toString('hex');
const PORTS = testStackPorts(25400);
/** Tasks per broker, sent at RATE a second. */
const JOBS = 1200;
const RATE = 25;
/** Tasks a worker runs at once (JetStream: the consumer's max_ack_pending). */
const CONCURRENCY = 16;
/**
 * The kills of the worker per broker: frozen first (every count exact), or unfrozen, in the
 * middle of whatever it does (acks and completions on their way, exports pending).
 */
const KILL_PLAN: readonly ('frozen' | 'unfrozen')[] = ['frozen', 'unfrozen', 'frozen', 'frozen'];
/** Tasks a worker starts before it is frozen and killed. */
const STARTS_BEFORE_KILL = 40;
/** How long a worker is frozen before its kill: several of its export intervals. */
const FREEZE_MS = 2000;
/** The workers' span and metric export intervals. */
const EXPORT_MS = 500;
/** JetStream's ack wait on the test consumer, after which a killed attempt's task comes back. */
const ACK_WAIT_MS = 3000;
/** After the last redelivery of a kill, time for the new worker to export the lost spans. */
const SETTLE_MS = 2000;
/** How long an event may take to happen, or a number to reach Prometheus or Jaeger. */
const LIMIT_MS = 90_000;

type BrokerName = 'bullmq' | 'rabbitmq' | 'nats';

const ERROR_TYPES: Record<BrokerName, string> = {
  bullmq: 'stalled',
  rabbitmq: 'redelivered',
  nats: 'ack_wait_expired',
};

/** One line the worker fixture prints. */
interface WorkerEvent {
  event: 'ready' | 'started' | 'done' | 'frozen';
  id?: string;
  attempt?: number;
  /** BullMQ: the job's stall count; RabbitMQ and JetStream: whether it is a redelivery. */
  redelivery?: number | boolean;
}

/** One attempt of a task: its id and number. */
interface Attempt {
  id: string;
  attempt: number;
}

/** One worker process and what it printed. */
class WorkerLog {
  readonly started: { id: string; attempt: number; redelivery: number | boolean }[] = [];
  readonly done = new Set<string>();
  ready = false;
  frozen = false;
  readonly process: NodeProcess;
  /** Resolves when all it printed has been read. */
  readonly closed: Promise<void>;

  constructor(env: Record<string, string>, otlpHttp: string) {
    this.process = startNodeProcess(
      [join(FIXTURES, 'lost-attempts-worker.mjs')],
      otlpHttp,
      env,
      (line) => this.take(JSON.parse(line) as WorkerEvent),
    );
    const stdout = this.process.child.stdout;
    this.closed = new Promise((resolve) => stdout?.once('close', () => resolve()));
  }

  private take(line: WorkerEvent): void {
    if (line.event === 'ready') this.ready = true;
    else if (line.event === 'frozen') this.frozen = true;
    else if (line.event === 'done') this.done.add(String(line.id));
    else {
      this.started.push({
        id: String(line.id),
        attempt: Number(line.attempt),
        redelivery: line.redelivery ?? false,
      });
    }
  }

  /** The attempts started here and not (yet) done: all of them once the worker is frozen. */
  running(): Attempt[] {
    return this.started
      .filter(({ id }) => !this.done.has(id))
      .map(({ id, attempt }) => ({ id, attempt }));
  }
}

let stack: RunningStack;
let stateDir: string;
let jaeger: JaegerClient;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-lost-attempts-e2e-'));
  stack = await startStack({ stateDir, ports: PORTS });
  jaeger = new JaegerClient(stack.endpoints.jaegerQuery);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

/** Resolves once `condition` holds (checked every 250 ms); fails with `what` after `limitMs`. */
async function until(what: string, condition: () => boolean, limitMs = LIMIT_MS): Promise<void> {
  await eventually(what, () => Promise.resolve(condition() || undefined), limitMs);
}

function tagOf(span: JaegerSpan, key: string): unknown {
  return span.tags.find((tag) => tag.key === key)?.value;
}

/** The spans of `service` with task.outcome `outcome`, from every trace that has one. */
async function spansWithOutcome(
  service: string,
  outcome: string,
  sinceMs: number,
): Promise<JaegerSpan[]> {
  const traces: JaegerTrace[] = await jaeger.findTraces(
    service,
    { 'task.outcome': outcome },
    sinceMs - 60_000,
    Date.now() + 60_000,
    10 * JOBS,
  );
  return traces.flatMap((trace) =>
    trace.spans.filter(
      (span) =>
        trace.processes[span.processID]?.serviceName === service &&
        tagOf(span, 'task.outcome') === outcome,
    ),
  );
}

/** The sum of a query's series, 0 when it has none. */
async function total(expression: string): Promise<number> {
  const samples = await promQuery(stack.endpoints.prometheus, expression);
  return samples.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
}

/** `id#attempt` of each attempt, sorted: a multiset to compare. */
function attemptKeys(attempts: Attempt[]): string[] {
  return attempts.map(({ id, attempt }) => `${id}#${attempt}`).sort();
}

/** The multiset `all` less `part`, and what of `part` is not in `all`. */
function subtract(all: string[], part: string[]): { rest: string[]; missing: string[] } {
  const counts = countBy(all);
  const missing: string[] = [];
  for (const item of part) {
    const count = counts.get(item) ?? 0;
    if (count === 0) missing.push(item);
    else counts.set(item, count - 1);
  }
  const rest = [...counts].flatMap(([item, count]) => Array<string>(count).fill(item));
  return { rest: rest.sort(), missing };
}

function countBy(ids: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

describe.each(['bullmq', 'rabbitmq', 'nats'] as const)(
  'attempts lost with a worker killed by SIGKILL on %s',
  (broker) => {
    it(`records every killed attempt as lost in Jaeger and Prometheus, ${KILL_PLAN.length} kills under ${RATE} tasks/s`, async () => {
      await BROKER_CHECKS[broker]();
      const startedAt = Date.now();
      const queue = `lost-e2e-${broker}-${SUFFIX}`;
      const workerService = `lost-e2e-worker-${broker}-${SUFFIX}`;
      const env = {
        BROKER: broker,
        QUEUE: queue,
        TASK: `import-${broker}`,
        CONCURRENCY: String(CONCURRENCY),
        OTEL_BSP_SCHEDULE_DELAY: String(EXPORT_MS),
        OTEL_METRIC_EXPORT_INTERVAL: String(EXPORT_MS),
      };
      const otlpHttp = stack.endpoints.otlpHttp;

      let producerReady = false;
      let sent: { count: number; seconds: number } | undefined;
      const producer = startNodeProcess(
        [join(FIXTURES, 'lost-attempts-producer.mjs')],
        otlpHttp,
        {
          ...env,
          SERVICE: `lost-e2e-producer-${broker}-${SUFFIX}`,
          JOBS: String(JOBS),
          RATE: String(RATE),
          ACK_WAIT_MS: String(ACK_WAIT_MS),
        },
        (line) => {
          const printed = JSON.parse(line) as { event: string; count: number; seconds: number };
          if (printed.event === 'ready') producerReady = true;
          if (printed.event === 'sent') sent = printed;
        },
      );
      const workers: WorkerLog[] = [];
      const startWorker = async (): Promise<WorkerLog> => {
        const worker = new WorkerLog({ ...env, SERVICE: workerService }, otlpHttp);
        workers.push(worker);
        await until('the worker consuming', () => worker.ready);
        return worker;
      };
      /** Per kill: the worker, the attempts it had running, whether tasks were still sent. */
      const kills: {
        log: WorkerLog;
        frozen: boolean;
        running: Attempt[];
        whileSending: boolean;
      }[] = [];

      try {
        await until('the producer’s queue set up', () => producerReady);
        let worker = await startWorker();
        for (const how of KILL_PLAN) {
          const current = worker;
          await until(
            `worker ${workers.length} starting ${STARTS_BEFORE_KILL} tasks`,
            () => current.started.length >= STARTS_BEFORE_KILL,
          );
          if (how === 'frozen') {
            current.process.child.kill('SIGUSR2');
            await until('the worker frozen', () => current.frozen);
            await sleep(FREEZE_MS);
          }
          const whileSending = sent === undefined;
          current.process.child.kill('SIGKILL');
          expect(await current.process.exited).toBeNull();
          await current.closed;
          const running = current.running();
          expect(running.length, 'attempts running when the worker was killed').toBeGreaterThan(0);
          kills.push({ log: current, frozen: how === 'frozen', running, whileSending });

          worker = await startWorker();
          const next = worker;
          await until(
            `the ${running.length} killed attempts delivered again to the next worker`,
            () => running.every(({ id }) => next.started.some((started) => started.id === id)),
          );
          await sleep(SETTLE_MS);
        }

        await until(
          `all ${JOBS} tasks done`,
          () =>
            sent !== undefined && new Set(workers.flatMap((log) => [...log.done])).size === JOBS,
        );
        worker.process.child.kill('SIGTERM');
        expect(await worker.process.exited).toBe(0);
      } finally {
        for (const log of workers) log.process.child.kill('SIGKILL');
        producer.child.kill('SIGTERM');
      }
      expect(await producer.exited).toBe(0);
      const runSeconds = (Date.now() - startedAt) / 1000;

      // The broker's own record of the attempts that never ended: each delivery it marks as a
      // repeat, with the number of the attempt before it (RabbitMQ: 1, a classic queue keeps no
      // count).
      const repeats: Attempt[] = [];
      const stallsSeen = new Map<string, number>();
      for (const log of workers) {
        for (const { id, attempt, redelivery } of log.started) {
          if (typeof redelivery === 'number') {
            if (redelivery > (stallsSeen.get(id) ?? 0)) repeats.push({ id, attempt: attempt - 1 });
            stallsSeen.set(id, redelivery);
          } else if (redelivery) {
            repeats.push({ id, attempt: broker === 'rabbitmq' ? 1 : attempt - 1 });
          }
        }
      }
      // A frozen worker's running attempts are exactly what it lost; a worker killed while it
      // ran freely lost at least its running attempts, and also any whose ack or completion it
      // had not yet sent, or a delivery it received and had not started.
      const frozenLost = kills.filter((kill) => kill.frozen).flatMap((kill) => kill.running);
      const afterFrozen = subtract(
        repeats.map(({ id }) => id),
        frozenLost.map(({ id }) => id),
      );
      expect(
        afterFrozen.missing,
        'frozen workers’ running attempts the broker did not repeat',
      ).toEqual([]);
      const hardLost = afterFrozen.rest;
      const hardKills = kills.filter((kill) => !kill.frozen);
      const hardRunning = hardKills.flatMap((kill) => kill.running.map(({ id }) => id));
      expect(
        subtract(hardLost, hardRunning).missing,
        'running attempts of the workers killed unfrozen that the broker did not repeat',
      ).toEqual([]);
      const hardStarted = new Set(
        hardKills.flatMap((kill) => kill.log.started.map(({ id }) => id)),
      );
      const hardDone = new Set(hardKills.flatMap((kill) => [...kill.log.done]));
      const lostAfterDone = hardLost.filter((id) => hardDone.has(id));
      const lostUnstarted = hardLost.filter((id) => !hardStarted.has(id));

      // Every task ran to its end at least once; a worker killed unfrozen may not have exported
      // the successes of its last moments, every other worker exported all of its own.
      const doneLines = countBy(workers.flatMap((log) => [...log.done]));
      expect(doneLines.size).toBe(JOBS);
      const doneExported = countBy(
        workers
          .filter((log) => !hardKills.some((kill) => kill.log === log))
          .flatMap((log) => [...log.done]),
      );
      const exportedTotal = [...doneExported.values()].reduce((sum, count) => sum + count, 0);
      const doneTotal = [...doneLines.values()].reduce((sum, count) => sum + count, 0);

      // Jaeger: one lost span per attempt the broker repeated, with its number and error.type;
      // per task, a success span for each end a worker printed and exported.
      const attemptOf = (span: JaegerSpan): Attempt => ({
        id: String(tagOf(span, 'task.id')),
        attempt: Number(tagOf(span, 'task.attempt')),
      });
      /** The tasks with fewer success spans than their exported ends, or more than all ends. */
      const wrongSuccesses = (succeeded: Attempt[]) => {
        const successes = countBy(succeeded.map(({ id }) => id));
        return [...doneLines]
          .map(([id, done]) => ({ id, done, exported: doneExported.get(id) ?? 0 }))
          .map((task) => ({ ...task, spans: successes.get(task.id) ?? 0 }))
          .filter(({ done, exported, spans }) => spans < exported || spans > done);
      };
      const [lostSpans, successSpans] = await eventually(
        `${repeats.length} lost spans and the success spans of ${doneExported.size} tasks in Jaeger`,
        async () => {
          const lost = await spansWithOutcome(workerService, 'lost', startedAt);
          const success = await spansWithOutcome(workerService, 'success', startedAt);
          return lost.length >= repeats.length &&
            wrongSuccesses(success.map(attemptOf)).every(({ spans, exported }) => spans >= exported)
            ? ([lost, success] as const)
            : undefined;
        },
        LIMIT_MS,
      );
      const lost = lostSpans.map(attemptOf);
      const succeeded = successSpans.map(attemptOf);
      expect(attemptKeys(lost), 'the lost spans: the broker’s repeats').toEqual(
        attemptKeys(repeats),
      );
      if (broker !== 'rabbitmq') {
        // BullMQ and JetStream count deliveries: a lost span has the killed attempt's number.
        expect(
          subtract(attemptKeys(lost), attemptKeys(frozenLost)).missing,
          'frozen workers’ running attempts, by number, with no lost span',
        ).toEqual([]);
      }
      expect(wrongSuccesses(succeeded), 'tasks with too few or too many success spans').toEqual([]);
      const successKeys = new Set(attemptKeys(succeeded));
      expect(
        attemptKeys(lost).filter((key) => successKeys.has(key)),
        'lost attempts that also succeeded',
      ).toEqual([]);
      for (const span of lostSpans) {
        expect(tagOf(span, 'error.type')).toBe(ERROR_TYPES[broker]);
        expect(tagOf(span, 'otel.status_code')).toBe('ERROR');
        expect(tagOf(span, 'task.lost.end_estimated')).toBe(true);
      }

      // Prometheus: the same numbers in task.duration, summed over the worker processes.
      const series = (outcome: string) =>
        `sum(last_over_time(task_duration_seconds_count{task_queue="${queue}", task_outcome="${outcome}"}[1h]))`;
      const counted = await eventually(
        `${repeats.length} lost and ${exportedTotal} to ${doneTotal} successes in Prometheus`,
        async () => {
          const found = {
            lost: await total(series('lost')),
            success: await total(series('success')),
          };
          return found.lost === repeats.length &&
            found.success >= exportedTotal &&
            found.success <= doneTotal
            ? found
            : undefined;
        },
        LIMIT_MS,
      );
      expect(counted.lost).toBe(repeats.length);
      expect(await total(series('failure'))).toBe(0);

      console.log(
        `${broker}: ${JOBS} tasks sent at ${RATE}/s (in ${sent?.seconds ?? '?'} s); ` +
          `${kills.length} kills (${kills.filter((kill) => kill.whileSending).length} while ` +
          `sending), running ${kills.map((kill) => `${kill.running.length}${kill.frozen ? '' : ' unfrozen'}`).join(', ')}; ` +
          `lost: ${lost.length} in Jaeger, ${counted.lost} in Prometheus, ${repeats.length} ` +
          `repeated by the broker, ${frozenLost.length} + ${hardRunning.length} running at the kills ` +
          `(unfrozen kill: ${lostAfterDone.length} lost after their end was printed, ` +
          `${lostUnstarted.length} delivered and not started); successes: ${succeeded.length} in ` +
          `Jaeger, ${counted.success} in Prometheus, ${doneTotal} printed (${exportedTotal} by ` +
          `workers not killed unfrozen); ${runSeconds.toFixed(1)} s ` +
          `(measured ${new Date().toISOString()})`,
      );
    }, 300_000);
  },
);
