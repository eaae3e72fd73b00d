// Runs the variants of a benchmark alternately: one warm-up round that is not recorded, then
// `repetitions` rounds in each of which every variant runs once, in an order that rotates from
// round to round, so that no variant always runs first (warm-up) or last, and drift on the
// machine hits all of them alike.

/**
 * Runs `sample(name, round)` for every name in every round and returns, per name, the list of
 * what it resolved to, sample i from round i. `round` is `'warmup'` for the warm-up round.
 */
export async function runRounds(names, repetitions, sample) {
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await sample(name, 'warmup');
  for (let round = 0; round < repetitions; round += 1) {
    for (let offset = 0; offset < names.length; offset += 1) {
      const name = names[(round + offset) % names.length];
      results[name].push(await sample(name, round));
    }
  }
  return results;
}

/**
 * Starts measuring the phase a sample times: returns a function that, called at the end of the
 * phase, returns its wall seconds and this process's CPU time over it (user + system, all
 * threads: the main thread, the garbage collector's helpers and libuv's), in microseconds.
 */
export function startClock() {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return { seconds, cpuMicros: cpu.user + cpu.system };
  };
}
