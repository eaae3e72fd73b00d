/*
 * The recording rules that compute a task measure have the expression its one definition renders
 * (recordingRuleExpressions, packages/cli/src/task-queries/deploy-queries.ts: the definitions
 * `tasklens stats`, the console and the dashboard use, over Prometheus 3's anchored rates).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

import { recordingRuleExpressions } from '@tasklens/cli';
import { REPO_DIR } from './run-tool.js';

interface RuleFile {
  groups: { rules: { record?: string; expr: string }[] }[];
}

/** The expression with its layout taken out: single spaces, none inside parentheses. */
function normalized(expr: string): string {
  return expr.replace(/\s+/g, ' ').replace(/\(\s/g, '(').replace(/\s\)/g, ')').trim();
}

const rules = (
  load(
    readFileSync(join(REPO_DIR, 'deploy/prometheus/rules/tasklens-recording.yml'), 'utf8'),
  ) as RuleFile
).groups.flatMap((group) => group.rules);

describe('tasklens recording rules', () => {
  it('compute each task measure as its definition renders it', () => {
    const rendered = Object.entries(recordingRuleExpressions());
    expect(rendered.length).toBeGreaterThanOrEqual(13);
    for (const [record, expr] of rendered) {
      const rule = rules.find((candidate) => candidate.record === record);
      expect(rule, record).toBeDefined();
      expect(normalized(rule?.expr ?? ''), record).toBe(normalized(expr));
    }
  });

  it('normalizes layout only', () => {
    expect(normalized('sum by (job) (\n  rate(x[5m])\n)\n')).toBe('sum by (job) (rate(x[5m]))');
    expect(normalized('a or b')).not.toBe(normalized('a and b'));
  });
});
