import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { PROMTOOL, REPO_DIR, runTool } from './run-tool.js';

const RULES_DIR = 'deploy/prometheus/rules';
const TESTS_DIR = 'deploy/prometheus/tests';

function yamlFiles(dir: string): string[] {
  return readdirSync(join(REPO_DIR, dir))
    .filter((name) => name.endsWith('.yml'))
    .sort()
    .map((name) => `${dir}/${name}`);
}

const read = (path: string): string => readFileSync(join(REPO_DIR, path), 'utf8');

/** Every `- alertname: X` test case of the promtool tests, with whether it expects alerts. */
function alertTestCases(): { alertname: string; fires: boolean }[] {
  const cases: { alertname: string; fires: boolean }[] = [];
  for (const file of yamlFiles(TESTS_DIR)) {
    const pattern = /- alertname: (\w+)\n\s+eval_time: \S+\n\s+exp_alerts:( \[\])?/g;
    for (const match of read(file).matchAll(pattern)) {
      cases.push({ alertname: match[1] ?? '', fires: match[2] === undefined });
    }
  }
  return cases;
}

describe('Prometheus rules', () => {
  it('pass promtool check rules', () => {
    const files = yamlFiles(RULES_DIR);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const result = runTool(PROMTOOL, ['check', 'rules', ...files]);
    expect(result.status, result.output).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const files = yamlFiles(TESTS_DIR);
    expect(files.length).toBeGreaterThan(0);
    const result = runTool(PROMTOOL, ['test', 'rules', ...files]);
    expect(result.status, result.output).toBe(0);
  });

  it('are loaded by a prometheus.yml that passes promtool check config', () => {
    const config = 'deploy/prometheus/prometheus.yml';
    expect(existsSync(join(REPO_DIR, config)), `${config} is missing`).toBe(true);
    const result = runTool(PROMTOOL, ['check', 'config', config]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('tasklens-alerts.yml');
  });

  it('have a unit test of each alert firing and one of it staying quiet', () => {
    const alerts = [...read(`${RULES_DIR}/tasklens-alerts.yml`).matchAll(/- alert: (\w+)/g)].map(
      (match) => match[1] ?? '',
    );
    expect(alerts.length).toBeGreaterThan(0);
    const cases = alertTestCases();
    for (const alertname of new Set(alerts)) {
      const own = cases.filter((testCase) => testCase.alertname === alertname);
      expect(
        own.some((testCase) => testCase.fires),
        `${alertname} never fires in a test`,
      ).toBe(true);
      expect(
        own.some((testCase) => !testCase.fires),
        `${alertname} is never tested quiet`,
      ).toBe(true);
    }
  });

  it('have a unit test of each recording rule value', () => {
    const records = [
      ...read(`${RULES_DIR}/tasklens-recording.yml`).matchAll(/- record: (\S+)/g),
    ].map((match) => match[1] ?? '');
    const tested = new Set(
      [...read(`${TESTS_DIR}/recording-rules.yml`).matchAll(/- expr: ([\w:]+)/g)].map(
        (match) => match[1] ?? '',
      ),
    );
    expect(records.filter((record) => !tested.has(record))).toEqual([]);
  });

  it('ship default thresholds only, with per-task entries left to the user', () => {
    const thresholds = read(`${RULES_DIR}/tasklens-thresholds.yml`);
    const active = thresholds
      .split('\n')
      .filter((line) => /^\s*- record: \S+:threshold$/.test(line));
    expect(active).toEqual([]);
    expect(thresholds).toContain('record: tasklens:expected_interval_seconds:default');
  });
});

describe('Alertmanager config', () => {
  it('passes amtool check-config', () => {
    const result = runTool('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml']);
    expect(result.status, result.output).toBe(0);
  });

  it('routes every alert to the webhook at the URL the native stack replaces', () => {
    expect(read('deploy/alertmanager/alertmanager.yml')).toContain(
      'url: http://127.0.0.1:9094/alerts',
    );
    const result = runTool('amtool', [
      'config',
      'routes',
      'test',
      '--config.file=deploy/alertmanager/alertmanager.yml',
      'alertname=TaskMissedRun',
      'severity=critical',
      'task_name=backup',
    ]);
    expect(result.status, result.output).toBe(0);
    // The first line names the receiver; amtool may add warnings after it.
    expect(result.output.split('\n')[0]).toBe('tasklens-webhook');
  });
});
