/*
 * The rules rewritten for the metrics store (storeRuleVariant) against the same promtool unit
 * tests as the shipped rules, evaluated by Prometheus 3.16's promtool; and the copies
 * docker-compose.yml mounts, checked by the Thanos the metrics store runs.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { expectedBinaryPaths, storeRuleVariant } from '@tasklens/stack';

import { PROMTOOL, REPO_DIR, runTool } from './run-tool.js';

const work = mkdtempSync(join(tmpdir(), 'tasklens-store-rules-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** deploy/prometheus with the rule files replaced by their rewrite, the tests as they are. */
function variantTree(): string {
  cpSync(join(REPO_DIR, 'deploy/prometheus'), work, { recursive: true });
  for (const file of readdirSync(join(work, 'rules'))) {
    const path = join(work, 'rules', file);
    writeFileSync(path, storeRuleVariant(readFileSync(path, 'utf8')));
  }
  return work;
}

describe('the rules rewritten for the metrics store', () => {
  const tree = variantTree();

  it('pass the recording-rule and pipeline-alert promtool tests of the shipped rules', () => {
    const result = runTool(PROMTOOL, [
      'test',
      'rules',
      join(tree, 'tests/recording-rules.yml'),
      join(tree, 'tests/pipeline-alerts.yml'),
    ]);
    expect(result.status, result.output).toBe(0);
  });

  it('pass the queue-alert promtool tests of the shipped rules', () => {
    const result = runTool(PROMTOOL, ['test', 'rules', join(tree, 'tests/queue-alerts.yml')]);
    expect(result.status, result.output).toBe(0);
  });

  it('pass the task-alert tests but for TaskStuck on a series first seen with a count', () => {
    // The rewrite counts a series that first appears inside the window from zero, as Prometheus
    // does with the zero sample it adds at an OTLP point's start time; promtool's input series
    // have no such sample, so an anchored increase sees no growth there. Only TaskStuck's test
    // starts its count series above zero.
    const result = runTool(PROMTOOL, ['test', 'rules', join(tree, 'tests/task-alerts.yml')]);
    const failed = new Set(
      [...result.output.matchAll(/alertname: (\w+), time:/g)].map((m) => m[1]),
    );
    expect([...failed], result.output).toEqual(['TaskStuck']);
  });

  it('as committed for docker-compose, pass thanos tools rules-check', async () => {
    const { thanos } = await expectedBinaryPaths(REPO_DIR);
    const dir = join(REPO_DIR, 'deploy/metrics-store/rules');
    const files = readdirSync(dir).filter((name) => name.endsWith('.yml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const result = runTool(thanos, [
      'tools',
      'rules-check',
      ...files.map((file) => `--rules=${join(dir, file)}`),
    ]);
    expect(result.status, result.output).toBe(0);
  });
});
