/* The chaos run's table, the worker-kill explanation and the verdict line, as text. */
import type { ChaosResult, Count, PhaseResult } from './chaos-result.js';
import { historyLost, phaseLost, SPOOL_CAP_BYTES } from './chaos-result.js';
import type { SampledRange } from './range-sampler.js';

const MIB = 1024 * 1024;

function count({ expected, found }: Count): string {
  return `${found}/${expected}`;
}

function memory(range: SampledRange | undefined): string {
  return range === undefined
    ? 'n/a'
    : `${(range.min / MIB).toFixed(0)}–${(range.max / MIB).toFixed(0)} MiB`;
}

function spool(value: number | undefined): string {
  return value === undefined ? 'n/a' : String(value);
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ');
}

/** One line per phase under a header: tasks, traces, attempts, spool counters, worker RSS. */
export function phaseTable(phases: PhaseResult[]): string[] {
  const header = [
    'phase',
    'disruption',
    'tasks run',
    'traces in Jaeger',
    'attempts in Prometheus',
    'unexported at kill',
    'spooled',
    'replayed',
    'dropped',
    'spool max',
    'RSS before',
    'RSS during',
  ];
  const rows = phases.map((phase) => [
    phase.name,
    phase.disruption,
    count(phase.tasks),
    count(phase.traces),
    count(phase.attempts),
    `${phase.unexportedAtKill.spans} spans, ${phase.unexportedAtKill.attempts} attempts`,
    spool(phase.spool.spooled),
    spool(phase.spool.replayed),
    spool(phase.spool.dropped),
    `${(phase.spoolMaxBytes / MIB).toFixed(1)} MiB`,
    memory(phase.rss.before),
    memory(phase.rss.during),
  ]);
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((cells) => cells[index]?.length ?? 0)),
  );
  return [row(header, widths), ...rows.map((cells) => row(cells, widths))];
}

/** What happened to the attempts running in the worker when it was killed. */
export function workerKillLines(phases: PhaseResult[]): string[] {
  return phases.flatMap((phase) => [
    ...(phase.lostCounted.expected > 0
      ? [
          `${phase.name}: ${count(phase.lostCounted)} attempts that died with the worker counted ` +
            'in Prometheus with outcome lost',
        ]
      : []),
    ...phase.lostWithWorker.map((lost) => {
      const next =
        lost.next === undefined
          ? 'no next attempt was found in the records'
          : `its next attempt ${lost.next.attempt} ran in pid ${lost.next.pid} (${lost.next.outcome ?? 'not ended'}), ` +
            `${lost.next.inJaeger ? 'found' : 'NOT found'} in Jaeger`;
      return (
        `job ${lost.job} attempt ${lost.attempt} (trace ${lost.trace}) was running in pid ${lost.pid} ` +
        `when it was killed: its own span never ended; BullMQ found the job stalled, the next ` +
        `attempt recorded it with outcome lost, and ${next}`
      );
    }),
  ]);
}

/** `VERDICT: nothing lost` or `VERDICT: LOST …` naming each phase's losses. */
export function verdictLine(result: ChaosResult): string {
  const losses = result.phases.filter(phaseLost).map((phase) => {
    const parts = [
      phase.tasks.expected - phase.tasks.found > 0
        ? `${phase.tasks.expected - phase.tasks.found} tasks not run`
        : '',
      phase.traces.expected - phase.traces.found > 0
        ? `${phase.traces.expected - phase.traces.found} task traces (e.g. ${phase.missingTraces.join(', ')})`
        : '',
      phase.attempts.expected - phase.attempts.found > 0
        ? `${phase.attempts.expected - phase.attempts.found} attempts in Prometheus`
        : '',
      phase.lostCounted.expected - phase.lostCounted.found > 0
        ? `${phase.lostCounted.expected - phase.lostCounted.found} lost attempts not counted`
        : '',
      phase.spoolMaxBytes > SPOOL_CAP_BYTES
        ? `the spool reached ${(phase.spoolMaxBytes / MIB).toFixed(1)} MiB, above its ${SPOOL_CAP_BYTES / MIB} MiB cap`
        : '',
    ].filter((part) => part !== '');
    return `${phase.name}: ${parts.join(', ')}`;
  });
  const { traces, attemptTotals } = result.history;
  if (historyLost(result.history)) {
    const parts = [
      traces.found < traces.expected
        ? `${traces.expected - traces.found} task traces found at their phase's end`
        : '',
      attemptTotals.found < attemptTotals.expected
        ? `the attempt totals of ${attemptTotals.expected - attemptTotals.found} phases`
        : '',
    ].filter((part) => part !== '');
    losses.push(`afterwards: ${parts.join(', ')}`);
  }
  return losses.length === 0
    ? 'VERDICT: nothing lost'
    : `VERDICT: LOST — ${losses.join('; ')} (run directory kept: ${result.directory})`;
}

/** The whole report: settings, table, worker-kill explanation, verdict. */
export function chaosReport(result: ChaosResult): string {
  const { options } = result;
  return [
    '',
    `chaos run on queue ${result.queue}, ${new Date().toISOString()}: ${options.rate} tasks/s, ` +
      `outages collector ${options.collectorOutageMs} ms, Jaeger ${options.jaegerOutageMs} ms, ` +
      `Prometheus ${options.prometheusOutageMs} ms, worker ${options.workerOutageMs} ms`,
    ...phaseTable(result.phases),
    ...workerKillLines(result.phases),
    `after all phases: ${count(result.history.traces)} task traces found at their phase's end ` +
      `still in Jaeger; Prometheus still has the attempt total at the end of ` +
      `${count(result.history.attemptTotals)} phases`,
    verdictLine(result),
  ].join('\n');
}
