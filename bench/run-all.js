// Runs every benchmark in turn: `npm run bench` (after the setup and build it runs first).
// BENCH_ONLY=core,bullmq limits the run to some of them.
const benches = {
  core: './core-overhead.js',
  bullmq: './bullmq-throughput.js',
  amqplib: './amqplib-throughput.js',
  nats: './nats-throughput.js',
  run: './run-collector-down.js',
  startup: './run-startup.js',
};
const only = process.env.BENCH_ONLY?.split(',');
for (const [name, path] of Object.entries(benches)) {
  if (only !== undefined && !only.includes(name)) continue;
  const { main } = await import(path);
  await main();
}
