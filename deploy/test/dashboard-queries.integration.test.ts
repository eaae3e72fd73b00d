/*
 * Every PromQL query of the Grafana dashboard is valid: promtool (built by scripts/setup.sh)
 * parses each as a recording rule.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { dashboardQueries } from '@tasklens/test-utils';
import { PROMTOOL, REPO_DIR, runTool } from './run-tool.js';

const dashboard: unknown = JSON.parse(
  readFileSync(join(REPO_DIR, 'deploy/grafana/dashboards/tasklens.json'), 'utf8'),
);

describe('tasklens dashboard queries', () => {
  const queries = dashboardQueries(dashboard);

  it('are valid PromQL (promtool parses each as a recording rule)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasklens-dashboard-'));
    try {
      const rules = queries.map(
        (query, index) =>
          `      - record: dashboard_query_${index}\n        expr: ${JSON.stringify(query.expr)}\n`,
      );
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
      const result = runTool(PROMTOOL, ['check', 'rules', file]);
      expect(result.status, result.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
