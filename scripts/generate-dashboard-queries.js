// Writes the queries of the Grafana dashboard's task measure panels into
// deploy/grafana/dashboards/tasklens.json, rendered from the one definition of each measure
// (dashboardExpressions, packages/cli/src/task-queries/deploy-queries.ts), the definitions
// `tasklens stats` and the console use too. Run after `npm run build` whenever a definition
// changes; deploy/test/dashboard.test.ts fails while the dashboard differs from a fresh render.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { dashboardExpressions } from '@tasklens/cli';

const file = join(
  fileURLToPath(new URL('..', import.meta.url)),
  'deploy',
  'grafana',
  'dashboards',
  'tasklens.json',
);
const dashboard = JSON.parse(readFileSync(file, 'utf8'));
for (const { panelId, panelTitle, refId, expr } of dashboardExpressions()) {
  const panel = dashboard.panels.find((candidate) => candidate.id === panelId);
  const target = panel?.targets.find((candidate) => candidate.refId === refId);
  if (target === undefined)
    throw new Error(`no target ${refId} in panel ${panelId} "${panelTitle}"`);
  target.expr = expr;
}
writeFileSync(file, `${JSON.stringify(dashboard, null, 2)}\n`);
