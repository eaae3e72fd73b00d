// Median-of-repetitions reporting shared by the benchmarks: tables with spreads, ratios against a
// baseline, and the issue's targets marked met or not met.
import { appendFileSync } from 'node:fs';
import os from 'node:os';

/** The median of a list of numbers. */
export function median(values) {
  return quantile(values, 0.5);
}

/** The q-quantile (0 ≤ q ≤ 1) of a list of numbers, interpolated between the closest ranks. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** A number with as many decimals as its size deserves. */
export function formatNumber(value) {
  const size = Math.abs(value);
  if (size >= 100) return value.toFixed(0);
  if (size >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** `p25–p75` of a list of numbers. */
export function formatIqr(values, format = formatNumber) {
  return `${format(quantile(values, 0.25))}–${format(quantile(values, 0.75))}`;
}

/** `min–max` of a list of numbers. */
export function formatRange(values, format = formatNumber) {
  return `${format(Math.min(...values))}–${format(Math.max(...values))}`;
}

/**
 * One line naming the machine, the date and the Node.js version measured (default: the one
 * running the benchmark), printed above every table.
 */
export function machineLine(nodeVersion = process.version) {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const load = os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
  return `${new Date().toISOString()} · node ${nodeVersion} · ${os.cpus().length} × ${cpu} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · load ${load}`;
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

/**
 * Each round's sample of `samples` divided by the same round's sample of `baseSamples`: variants
 * that alternate within a round share its share of the machine's drift, which the ratio cancels.
 */
export function pairedRatios(samples, baseSamples) {
  return samples.map((value, round) => value / baseSamples[round]);
}

/**
 * Prints a table of variants measured in rounds (sample i of every variant comes from round i):
 * per variant the median, interquartile range and min–max of its samples, and the median and
 * interquartile range of its per-round ratios to the baseline. Returns the ratios by name.
 */
export function printRoundsTable(title, unit, results, { baseline, higherIsBetter }) {
  const base = results.find((result) => result.name === baseline).samples;
  const width = Math.max(34, ...results.map(({ name }) => name.length + 1));
  console.log(`\n${title} (${higherIsBetter ? 'higher' : 'lower'} is better)\n${machineLine()}`);
  console.log(
    `${'variant'.padEnd(width)} ${`median ${unit}`.padStart(14)} ${'p25–p75'.padStart(15)} ` +
      `${'min–max'.padStart(15)}   vs ${baseline} (p25–p75 of per-round ratios)`,
  );
  const ratios = {};
  for (const { name, samples } of results) {
    ratios[name] = pairedRatios(samples, base);
    const ratio = `${median(ratios[name]).toFixed(2)}x (${formatIqr(ratios[name], (value) => value.toFixed(2))})`;
    console.log(
      `${name.padEnd(width)} ${formatNumber(median(samples)).padStart(14)} ` +
        `${formatIqr(samples).padStart(15)} ${formatRange(samples).padStart(15)}   ${ratio}`,
    );
  }
  return ratios;
}

/** `1.04x (p25–p75 0.98–1.10)`: the median of per-round ratios and their interquartile range. */
export function formatRatios(ratios) {
  return `${median(ratios).toFixed(2)}x (p25–p75 ${formatIqr(ratios, (value) => value.toFixed(2))})`;
}

/**
 * A target of the performance issue, measured: `measured` (a number, or per-round ratios whose
 * median is the value and whose interquartile range is shown) against `atLeast` or `atMost`.
 * Printed at once, and appended as a JSON line to $BENCH_TARGETS_FILE when set (run-all.js
 * prints them all again at the end).
 */
export function target(id, label, measured, { atLeast, atMost, unit = 'x', detail = '' }) {
  const value = Array.isArray(measured) ? median(measured) : measured;
  const spread = Array.isArray(measured)
    ? formatIqr(measured, (ratio) => ratio.toFixed(2))
    : undefined;
  const met = atLeast !== undefined ? value >= atLeast : value <= atMost;
  const goal = atLeast !== undefined ? `≥ ${atLeast}${unit}` : `≤ ${atMost}${unit}`;
  const result = { id, label, value, spread, goal, unit, met, detail, node: process.version };
  console.log(formatTarget(result));
  if (process.env.BENCH_TARGETS_FILE) {
    appendFileSync(process.env.BENCH_TARGETS_FILE, `${JSON.stringify(result)}\n`);
  }
  return result;
}

/** One line of a target: `T3 NATS: ... 0.83x (p25–p75 0.80–0.86; goal ≥ 0.95x): NOT MET`. */
export function formatTarget({ id, label, value, spread, goal, unit, met, detail }) {
  const shown = `${value.toFixed(2)}${unit} (${spread ? `p25–p75 ${spread}; ` : ''}goal ${goal})`;
  return `${id} ${label}: ${shown}: ${met ? 'met' : 'NOT MET'}${detail ? ` — ${detail}` : ''}`;
}
