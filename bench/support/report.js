// Median-of-repetitions reporting shared by the benchmarks: one table, ratios against a baseline.
import os from 'node:os';

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * One line naming the machine, the date and the Node.js version measured (default: the one
 * running the benchmark), printed above every table.
 */
export function machineLine(nodeVersion = process.version) {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${new Date().toISOString()} · node ${nodeVersion} · ${os.cpus().length} × ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}

/**
 * Prints a table of variants: the median of each variant's samples, and its ratio to the
 * baseline variant. `higherIsBetter` says whether samples are throughputs (true) or costs.
 */
export function printTable(title, unit, results, { baseline, higherIsBetter }) {
  const base = median(results.find((result) => result.name === baseline).samples);
  console.log(`\n${title} (${higherIsBetter ? 'higher' : 'lower'} is better)\n${machineLine()}`);
  console.log(`${'variant'.padEnd(34)} ${`median ${unit}`.padStart(18)} ${'vs ' + baseline}`);
  for (const { name, samples } of results) {
    const value = median(samples);
    const ratio = value / base;
    const shown = value >= 100 ? value.toFixed(0) : value.toFixed(2);
    console.log(`${name.padEnd(34)} ${shown.padStart(18)} ${ratio.toFixed(2)}x`);
  }
}

/** The `q` quantile (0 to 1) of a list of numbers, interpolated between neighbours. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Prints a table of wall times in milliseconds, one row per variant of `samples` (name → list):
 * median, interquartile range and min–max; `nodeVersion` is the Node.js the variants ran on.
 */
export function printSpreadTable(title, samples, nodeVersion = process.version) {
  const runs = Math.min(...Object.values(samples).map((values) => values.length));
  console.log(`\n${title}, ${runs} runs each (lower is better)\n${machineLine(nodeVersion)}`);
  console.log(
    `${'variant'.padEnd(40)} ${'median ms'.padStart(10)} ${'p25–p75 ms'.padStart(12)} ${'min–max ms'.padStart(12)}`,
  );
  const range = (low, high) => `${low.toFixed(0)}–${high.toFixed(0)}`;
  for (const [name, values] of Object.entries(samples)) {
    const middle = range(quantile(values, 0.25), quantile(values, 0.75));
    const whole = range(Math.min(...values), Math.max(...values));
    console.log(
      `${name.padEnd(40)} ${median(values).toFixed(0).padStart(10)} ${middle.padStart(12)} ${whole.padStart(12)}`,
    );
  }
}
