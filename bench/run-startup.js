// Start-up cost of `tasklens run --task startup -- true`, which a job run every minute pays each
// time: beside `node -e 0`, with both exporters off, and with both on, exporting to the real
// collector of the native stack (ports 23600–23611). The variants alternate, after warm-up rounds
// that are not recorded. The target is at most 100 ms over `node -e 0` with the exporters on.
//   node bench/run-startup.js                                     (the Node.js running it)
//   NODE_BINARY=/path/to/node node bench/run-startup.js           (another Node.js)
//   BENCH_REPETITIONS=30 (default) sets the runs per variant.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackPortsFrom, startStack } from '@tasklens/stack';
import { median, printSpreadTable } from './support/report.js';
import { wallTimeMs } from './support/wall-time.js';

const RUNS = Number(process.env.BENCH_REPETITIONS ?? 30);
const WARM_UP_ROUNDS = 3;
const TARGET_MS = 100;
const NODE = process.env.NODE_BINARY ?? process.execPath;
const BIN = fileURLToPath(new URL('../packages/cli/dist/tasklens.js', import.meta.url));

/** Every file under `directory`, so that a spooled export is found whatever its folder. */
function filesUnder(directory) {
  return readdirSync(directory, { recursive: true, withFileTypes: true }).filter((entry) =>
    entry.isFile(),
  );
}

export async function main() {
  const nodeVersion = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
  const stateDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-stack-'));
  const spoolDir = mkdtempSync(join(tmpdir(), 'tasklens-bench-spool-'));
  const stack = await startStack({ stateDir, ports: stackPortsFrom(23_600) });
  try {
    const run = (env) =>
      wallTimeMs(NODE, [BIN, 'run', '--task', 'startup', '--', 'true'], {
        HOME: process.env.HOME,
        TASKLENS_SPOOL_DIR: spoolDir,
        ...env,
      });
    const variants = {
      'node -e 0': () => wallTimeMs(NODE, ['-e', '0'], {}),
      'tasklens run, exporters off': () =>
        run({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }),
      'tasklens run, exporters on, collector up': () =>
        run({ OTEL_EXPORTER_OTLP_ENDPOINT: stack.endpoints.otlpHttp }),
    };
    const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    for (let round = 0; round < WARM_UP_ROUNDS + RUNS; round++) {
      for (const [name, variant] of Object.entries(variants)) {
        const ms = variant();
        if (round >= WARM_UP_ROUNDS) samples[name].push(ms);
      }
    }
    printSpreadTable('tasklens run start-up, wall time', samples, nodeVersion);
    const bare = median(samples['node -e 0']);
    for (const name of Object.keys(variants).slice(1)) {
      console.log(`${name}: +${(median(samples[name]) - bare).toFixed(0)} ms over node -e 0`);
    }
    const over = median(samples['tasklens run, exporters on, collector up']) - bare;
    console.log(
      `target (exporters on, at most +${TARGET_MS} ms): ${over <= TARGET_MS ? 'met' : 'not met'}`,
    );
    // Every export must have reached the collector: anything it did not take would be spooled.
    const spooled = filesUnder(spoolDir).length;
    if (spooled > 0) throw new Error(`${spooled} file(s) were spooled: the collector missed some`);
  } finally {
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
