/*
 * The real RabbitMQ the integration tests use, and the producer child process they run.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import type { ChannelModel } from 'amqplib';

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Connects, or fails with a message that says how to start the broker (tests never skip). Frames
 * of 128 KiB, amqplib 2's default: amqplib 0.10 (the oldest version supported) defaults to 4 KiB,
 * too small for the 60 KB header of the hostile-carrier test.
 */
export async function connectRabbitMq(url: string = RABBITMQ_URL): Promise<ChannelModel> {
  try {
    return await amqp.connect(url.includes('?') ? url : `${url}?frameMax=131072`);
  } catch (error) {
    throw new Error(
      `RabbitMQ is not reachable at ${url} (${error instanceof Error ? error.message : String(error)}). ` +
        'Start it with: rabbitmq-server -detached',
    );
  }
}

/** A queue or exchange name no other run uses. */
export function uniqueName(prefix: string): string {
  return `tasklens-test-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A finished span as the producer child process prints it. */
export interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
}

/** What the producer child process prints. */
export interface ProducerResult {
  spans: ChildSpan[];
  confirms: (string | null)[];
  returned: boolean[];
}

/** What the producer child process publishes. */
export interface ProducerRequest {
  mode: 'sendToQueue' | 'publish';
  confirm?: boolean;
  queue?: string;
  exchange?: string;
  routingKey?: string;
  count?: number;
  headers?: Record<string, unknown>;
  messageId?: string;
}

const PRODUCER = fileURLToPath(new URL('../fixtures/producer.mjs', import.meta.url));

/** Runs the producer in its own Node process (its own SDK) and returns the spans it made. */
export function runProducer(request: ProducerRequest): Promise<ProducerResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [PRODUCER, JSON.stringify({ url: RABBITMQ_URL, ...request })],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`producer failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve(JSON.parse(stdout) as ProducerResult);
      },
    );
  });
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
