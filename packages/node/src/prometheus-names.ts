/**
 * The names Prometheus gives OpenTelemetry metrics when it receives them over OTLP with
 * `translation_strategy: UnderscoreEscapingWithSuffixes` (deploy/prometheus/prometheus.yml), so
 * that the pull endpoint serves the same names. The rules, as Prometheus documents them: the
 * name's characters other than letters, digits and `:` separate words joined by `_`; the unit
 * becomes a word (`s` → `seconds`, `By` → `bytes`, `1` → none, a `{…}` annotation → none, `/s` →
 * `per_second`) unless the name already has it; a monotonic counter ends in `_total`, a gauge of
 * unit `1` in `_ratio`.
 */

/** What decides the type suffix: `_total` for a counter, `_ratio` for a gauge of unit `1`. */
export type PrometheusMetricKind = 'counter' | 'up-down-counter' | 'gauge' | 'histogram';

/** UCUM units and the words Prometheus writes for them; any other unit is written as it is. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** The denominators of a `…/…` unit, singular. */
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

/** The words of a name or a unit word: runs of letters, digits and `:`. */
function words(text: string): string[] {
  return text.split(/[^a-zA-Z0-9:]+/).filter((word) => word !== '');
}

/** The words one side of a unit adds; none for an empty side or a `{…}` annotation. */
function unitWords(unit: string | undefined, table: Readonly<Record<string, string>>): string[] {
  const trimmed = unit?.trim() ?? '';
  if (trimmed === '' || /[{}]/.test(trimmed)) return [];
  return words(table[trimmed] ?? trimmed);
}

/** The main and the "per" words of a unit (`By/s` → `bytes`, `per second`). */
function unitParts(unit: string): { main: string[]; per: string[] } {
  const slash = unit.indexOf('/');
  const per = unitWords(slash < 0 ? undefined : unit.slice(slash + 1), PER_UNIT_WORDS);
  return {
    main: unitWords(slash < 0 ? unit : unit.slice(0, slash), UNIT_WORDS),
    per: per.length === 0 ? [] : ['per', ...per],
  };
}

/** Whether `part` appears in `tokens` as consecutive words. */
function contains(tokens: readonly string[], part: readonly string[]): boolean {
  for (let start = 0; start + part.length <= tokens.length; start++) {
    if (part.every((word, index) => tokens[start + index] === word)) return true;
  }
  return false;
}

/**
 * The unit as Prometheus names it (`s` → `seconds`, `By/s` → `bytes_per_second`, `1` and
 * `{task}` → ``): what it records as the metric's unit.
 */
export function prometheusUnit(unit: string): string {
  const { main, per } = unitParts(unit);
  return [...main, ...per].join('_');
}

/**
 * The Prometheus name of an OpenTelemetry metric, as Prometheus's OTLP receiver names it
 * (histograms then add `_bucket`, `_sum` and `_count`).
 *
 * @example
 * prometheusMetricName('task.duration', 's', 'histogram'); // 'task_duration_seconds'
 * prometheusMetricName('task.retries', '{retry}', 'counter'); // 'task_retries_total'
 */
export function prometheusMetricName(
  name: string,
  unit: string,
  kind: PrometheusMetricKind,
): string {
  let tokens = words(name);
  const { main, per } = unitParts(unit);
  for (const suffix of [main, per]) {
    if (suffix.length > 0 && !contains(tokens, suffix)) tokens.push(...suffix);
  }
  const typeSuffix =
    kind === 'counter' ? 'total' : kind === 'gauge' && unit === '1' ? 'ratio' : undefined;
  if (typeSuffix !== undefined) {
    tokens = [...tokens.filter((token) => token !== typeSuffix), typeSuffix];
  }
  const joined = tokens.join('_');
  return /^[0-9]/.test(joined) ? `_${joined}` : joined;
}
