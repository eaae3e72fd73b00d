/*
 * The latency of a task chain end to end on the real brokers and binaries: a job enqueued to
 * BullMQ whose worker publishes to RabbitMQ, whose consumer publishes to NATS JetStream, each hop
 * in its own process (fixtures/chain-hop.mjs) with a delay injected; every process exports OTLP to
 * the collector, which feeds Prometheus. The last hop's task_pipeline_duration_seconds, read from
 * Prometheus, is the time from the first enqueue to the end of the last attempt, whether the
 * traces are sampled or not (the chain start travels in the carrier, not on spans).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '@tasklens/stack';
import type { RunningStack } from '@tasklens/stack';
import { eventually, requireRedis, startNodeProcess } from '@tasklens/test-utils';
import type { NodeProcess } from '@tasklens/test-utils';
import { promQuery } from './support/backend-queries.js';
import { testStackPorts } from './support/test-ports.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const PORTS = testStackPorts(23000);
const HOP_DELAY_MS = 300;

type HopLine =
  | { event: 'ready' }
  | { event: 'enqueued'; at: number }
  | { event: 'done'; endedAt: number; recording: boolean };

let stack: RunningStack;
let stateDir: string;

beforeAll(async () => {
  await requireRedis();
  stateDir = await mkdtemp(join(tmpdir(), 'tasklens-pipeline-'));
  stack = await startStack({ stateDir, ports: PORTS });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

function startRole(role: string, run: string, sampler: string, lines: HopLine[]): NodeProcess {
  return startNodeProcess(
    [join(FIXTURES, 'chain-hop.mjs'), role],
    stack.endpoints.otlpHttp,
    { RUN: run, HOP_DELAY_MS: String(HOP_DELAY_MS), OTEL_TRACES_SAMPLER: sampler },
    (line) => lines.push(JSON.parse(line) as HopLine),
  );
}

/** Runs the chain once; returns its first enqueue, its end and the last hop's Prometheus value. */
async function runChain(sampler: string) {
  const run = `chain-${randomBytes(4).toString('hex')}`;
  const hopLines: HopLine[] = [];
  const hops = ['bullmq', 'rabbitmq', 'nats'].map((role) =>
    startRole(role, run, sampler, hopLines),
  );
  try {
    await eventually('the three hops consuming', () =>
      Promise.resolve(hopLines.filter((line) => line.event === 'ready').length === 3 || undefined),
    );
    const enqueueLines: HopLine[] = [];
    expect(await startRole('enqueue', run, sampler, enqueueLines).exited).toBe(0);
    const enqueued = enqueueLines.find((line) => line.event === 'enqueued');
    const done = await eventually('the last hop ending', () =>
      Promise.resolve(hopLines.find((line) => line.event === 'done')),
    );
    if (enqueued?.event !== 'enqueued' || done.event !== 'done') throw new Error('no chain');

    const selector = `{task_queue="${run}-deliver", task_outcome="success"}`;
    const [count, sum] = await eventually('the pipeline duration in Prometheus', async () => {
      const [countSample] = await promQuery(
        stack.endpoints.prometheus,
        `task_pipeline_duration_seconds_count${selector}`,
      );
      const [sumSample] = await promQuery(
        stack.endpoints.prometheus,
        `task_pipeline_duration_seconds_sum${selector}`,
      );
      if (countSample === undefined || sumSample === undefined) return undefined;
      return [Number(countSample.value[1]), Number(sumSample.value[1])];
    });
    const [labels] = await promQuery(
      stack.endpoints.prometheus,
      `task_pipeline_duration_seconds_count${selector}`,
    );
    return { enqueuedAt: enqueued.at, done, count, sum, labels: labels.metric };
  } finally {
    for (const hop of hops) hop.child.kill('SIGTERM');
    expect(await Promise.all(hops.map((hop) => hop.exited))).toEqual([0, 0, 0]);
  }
}

describe('a three-hop chain BullMQ → RabbitMQ → NATS across three processes', () => {
  it.each([
    ['every trace sampled', 'parentbased_always_on', true],
    ['head sampling at 0 %', 'always_off', false],
  ])(
    'the last hop’s task_pipeline_duration_seconds is the time from the first enqueue to its end (%s)',
    async (_label, sampler, recording) => {
      const { enqueuedAt, done, count, sum, labels } = await runChain(sampler);
      expect(done.recording).toBe(recording);
      expect(count).toBe(1);
      const chainSeconds = (done.endedAt - enqueuedAt) / 1000;
      // A delay before each hop passes the chain on (the hops' second delays run alongside).
      expect(chainSeconds).toBeGreaterThanOrEqual((3 * HOP_DELAY_MS) / 1000);
      console.log(
        `pipeline (${sampler}): Prometheus ${sum.toFixed(4)} s, measured ${chainSeconds.toFixed(4)} s`,
      );
      expect(Math.abs(sum - chainSeconds)).toBeLessThanOrEqual(0.05);
      // Labelled by task name, queue and outcome only.
      expect(
        Object.keys(labels)
          .filter(
            (label) =>
              label.startsWith('task_') || label.startsWith('messaging_') || label === 'error_type',
          )
          .sort(),
      ).toEqual(['task_name', 'task_outcome', 'task_queue']);
    },
    90_000,
  );
});
