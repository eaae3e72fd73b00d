// Wall time of a short cron job wrapped by `tasklens run --task nightly -- true`, with the collector
// answering and with it refusing connections (the run's telemetry then goes to the spool), beside
// `node -e 0`. Runs the real collector, Jaeger and Prometheus from the native stack on ports
// 22100–22111. Run with `npm run bench` or `node bench/run-collector-down.js`.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackPortsFrom, startStack } from '@tasklens/stack';
import { median, printSpreadTable } from './support/report.js';
import { wallTimeMs } from './support/wall-time.js';

const RUNS = Number(process.env.BENCH_REPETITIONS ?? 15);
const BIN = fileURLToPath(new URL('../packages/cli/dist/tasklens.js', import.meta.url));

async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-stack-'));
  const spoolDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-spool-'));
  const stack = await startStack({ stateDir, ports: stackPortsFrom(22_100) });
  try {
    const refused = `http://127.0.0.1:${await closedPort()}`;
    const run = (endpoint, service) =>
      wallTimeMs(
        process.execPath,
        [BIN, 'run', '--task', 'nightly', '--service', service, '--', 'true'],
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          TASKLENS_SPOOL_DIR: spoolDir,
        },
      );
    const variants = {
      'node -e 0': () => wallTimeMs(process.execPath, ['-e', '0'], {}),
      'tasklens run, collector up': () => run(stack.endpoints.otlpHttp, 'bench-up'),
      'tasklens run, collector refusing': () => run(refused, 'bench-down'),
    };
    const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    // One warm-up round, not recorded, then the variants alternate.
    for (let round = 0; round <= RUNS; round++) {
      for (const [name, variant] of Object.entries(variants)) {
        const ms = variant();
        if (round > 0) samples[name].push(ms);
      }
    }
    printSpreadTable('tasklens run wall time', samples);
    const up = median(samples['tasklens run, collector up']);
    const down = median(samples['tasklens run, collector refusing']);
    console.log(`collector refusing − collector up: ${(down - up).toFixed(0)} ms (median)`);
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
