import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { storeRuleVariant } from '@tasklens/stack';

import { REPO_DIR } from './run-tool.js';

const SOURCE_DIR = join(REPO_DIR, 'deploy/prometheus/rules');
const COPY_DIR = join(REPO_DIR, 'deploy/metrics-store/rules');

describe('the metrics store variant of the rules', () => {
  it('rewrites anchored increases and rates into the growth stats uses, exact for one-shot series', () => {
    const source = [
      'groups:',
      '  - name: g',
      '    rules:',
      '      - record: r',
      '        expr: sum by (job) (rate(task_duration_seconds_count{task_outcome=~"failure|timeout"}[5m] anchored))',
      '      - record: i',
      '        expr: increase(task_duration_seconds_count[3m] anchored) > 0',
      '',
    ].join('\n');
    const variant = storeRuleVariant(source, { partialResponseStrategy: 'warn' });
    const s = 'task_duration_seconds_count{task_outcome=~"failure|timeout"}';
    expect(variant).toContain(
      `sum by (job) ((((last_over_time(${s}[5m]) - ${s} offset 5m) or last_over_time(${s}[5m])) / 300))`,
    );
    expect(variant).toContain(
      'expr: ((last_over_time(task_duration_seconds_count[3m]) - task_duration_seconds_count offset 3m)' +
        ' or last_over_time(task_duration_seconds_count[3m])) > 0',
    );
    expect(variant).toContain('  - name: g\n    partial_response_strategy: warn\n    rules:');
    expect(storeRuleVariant(source)).not.toContain('partial_response_strategy');
  });

  it('refuses an anchored selector it cannot rewrite', () => {
    expect(() => storeRuleVariant('expr: deriv(x[5m] anchored)')).toThrow(/line 1/);
  });

  it('is committed for docker-compose exactly as a fresh rewrite of every rule file', () => {
    const sources = readdirSync(SOURCE_DIR).filter((name) => name.endsWith('.yml'));
    expect(readdirSync(COPY_DIR).sort()).toEqual(sources.sort());
    for (const file of sources) {
      const copy = readFileSync(join(COPY_DIR, file), 'utf8');
      const fresh = storeRuleVariant(readFileSync(join(SOURCE_DIR, file), 'utf8'), {
        partialResponseStrategy: 'warn',
      });
      expect(copy.endsWith(fresh), `${file}: rerun node scripts/generate-store-rules.js`).toBe(
        true,
      );
      expect(copy.replace(/#.*/g, '')).not.toMatch(/\banchored\b/);
    }
  });
});
