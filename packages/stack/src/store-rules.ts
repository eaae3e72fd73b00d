/**
 * The recording and alert rules of deploy/prometheus/rules, rewritten for the metrics store's
 * ruler (Thanos Rule, which evaluates PromQL with the engine of Prometheus 3.9 and refuses the
 * `anchored` range selectors of Prometheus 3.16). The rule files stay the one source: this rewrite
 * runs when the stack starts, on whatever rule files it was given.
 *
 * `increase(S[R] anchored)` becomes the growth from the sample at the window's start to the last
 * sample in it, or, for a series born inside the window, its whole value (it counts from zero):
 *
 *   ((last_over_time(S[R]) - S offset R) or last_over_time(S[R]))
 *
 * and `rate(S[R] anchored)` the same divided by R in seconds. For a counter that does not reset
 * inside the window this is what Prometheus 3.16 computes with anchored selectors and the zero
 * sample it adds at each series' start time (which the store's OTLP receiver does not add): exact,
 * with no extrapolation, and a one-shot `tasklens run` series of a single sample counts in full.
 * A counter reset inside the window (the same series restarting from zero) makes the rewrite too
 * low where anchored rates are not; tasklens processes each have series of their own (the
 * `instance` label), so a restart starts a new series rather than resetting one.
 */

const SELECTOR = String.raw`[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^{}]*\})?`;
const DURATION = String.raw`\d+[smhd]`;
const ANCHORED = new RegExp(
  String.raw`\b(rate|increase)\((${SELECTOR})\[(${DURATION})\] anchored\)`,
  'g',
);

const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function seconds(duration: string): number {
  const unit = duration.slice(-1);
  return Number(duration.slice(0, -1)) * (SECONDS[unit] ?? Number.NaN);
}

/** Options of {@link storeRuleVariant}. */
export interface StoreRuleVariantOptions {
  /**
   * Thanos's per-group `partial_response_strategy`: `warn` evaluates a rule on the replicas that
   * answer when one store is down (with replication factor 2 the other replica holds every
   * sample); Thanos's default, `abort`, would skip the evaluation. Default: leave groups as they
   * are (what promtool accepts).
   */
  partialResponseStrategy?: 'warn' | 'abort';
}

/**
 * Rewrites one rule file's text for the metrics store's ruler; see the module comment.
 *
 * @throws Error when `anchored` is left anywhere (a form the rewrite does not know)
 */
export function storeRuleVariant(source: string, options: StoreRuleVariantOptions = {}): string {
  let text = source.replace(ANCHORED, (_match, fn: string, selector: string, range: string) => {
    const growth =
      `((last_over_time(${selector}[${range}]) - ${selector} offset ${range})` +
      ` or last_over_time(${selector}[${range}]))`;
    return fn === 'rate' ? `(${growth} / ${seconds(range)})` : growth;
  });
  const left = text.split('\n').findIndex((line) => /\banchored\b/.test(line.replace(/#.*/, '')));
  if (left !== -1) {
    throw new Error(
      `line ${left + 1} still uses an anchored range selector the rewrite does not know`,
    );
  }
  if (options.partialResponseStrategy !== undefined) {
    const strategy = options.partialResponseStrategy;
    text = text.replace(
      /^(\s*)- name: (.*)$/gm,
      (_line, indent: string, name: string) =>
        `${indent}- name: ${name}\n${indent}  partial_response_strategy: ${strategy}`,
    );
  }
  return text;
}
