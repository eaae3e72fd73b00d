// What the three broker benchmarks share: the names of their variants, the two tables of a run
// (throughput and CPU per message, per variant, against bare) and the targets every broker has
// (T3 against the hand-rolled span, T5 without an SDK against bare).
import { formatRatios, pairedRatios, printRoundsTable, target } from './report.js';

export const BARE = 'bare';
export const NO_SDK = 'tasklens, no SDK';
export const TASKLENS = 'tasklens, SDK';
export const HAND_ROLLED = 'hand-rolled span, SDK';

/**
 * Prints the throughput and CPU tables of one broker's rounds (`samples`: variant name → list of
 * `{ rate, cpu }`) and returns them with helpers for further targets and the T3 and T5 targets.
 * `unit` is `msg` or `job`.
 */
export function reportBrokerRounds({ broker, unit, samples, throughputTitle, cpuTitle }) {
  const names = Object.keys(samples);
  const rates = names.map((name) => ({ name, samples: samples[name].map(({ rate }) => rate) }));
  const cpus = names.map((name) => ({ name, samples: samples[name].map(({ cpu }) => cpu) }));
  const of = (list, name) => list.find((result) => result.name === name).samples;
  const rateRatios = printRoundsTable(throughputTitle, `${unit}/s`, rates, {
    baseline: BARE,
    higherIsBetter: true,
  });
  const cpuRatios = printRoundsTable(cpuTitle, `µs/${unit}`, cpus, {
    baseline: BARE,
    higherIsBetter: false,
  });
  const versus = (a, b) => pairedRatios(of(rates, a), of(rates, b));
  const cpuVersus = (a, b) => formatRatios(pairedRatios(of(cpus, a), of(cpus, b)));
  const targets = [
    target(
      'T3',
      `${broker}: tasklens (SDK) vs hand-rolled span, throughput`,
      versus(TASKLENS, HAND_ROLLED),
      {
        atLeast: 0.95,
        detail: `CPU/${unit} ${cpuVersus(TASKLENS, HAND_ROLLED)} the hand-rolled span's`,
      },
    ),
    target('T5', `${broker}: tasklens without an SDK vs bare, throughput`, rateRatios[NO_SDK], {
      atLeast: 0.97,
      detail: `CPU/${unit} ${formatRatios(cpuRatios[NO_SDK])} bare's`,
    }),
  ];
  return { rates, cpus, of, versus, cpuVersus, targets };
}
