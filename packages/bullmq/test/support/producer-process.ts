/* Runs the producer fixture in its own Node process and returns what it printed. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/producer.mjs', import.meta.url));

/** A span as the producer process saw it. */
export interface ProducedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
}

export interface Produced {
  spans: ProducedSpan[];
  jobIds: string[];
}

/** Runs the producer fixture with `spec` (see fixtures/producer.mjs) in a child process. */
export function produce(spec: Record<string, unknown>): Promise<Produced> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [FIXTURE, JSON.stringify(spec)],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`producer process failed: ${error.message}\n${stderr}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Produced);
        } catch {
          reject(new Error(`producer process printed no result: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}
