// Median-of-repetitions reporting shared by the benchmarks: one table, ratios against a baseline.
import os from 'node:os';

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One line naming the machine and the date, printed above every table. */
export function machineLine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${new Date().toISOString()} · node ${process.version} · ${os.cpus().length} × ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
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
