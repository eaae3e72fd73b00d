// Takes the README's screenshots of the console (docs/console/*.png) from a running console, in
// Debian's headless Chromium: the tasks page with the first failing task's charts, its failure
// groups and the trace of the largest group. Run after `npm run demo`:
//
//   node scripts/console-screenshots.js [http://127.0.0.1:8765]
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '@tasklens/test-utils';

const consoleUrl = process.argv[2] ?? 'http://127.0.0.1:8765';
const out = fileURLToPath(new URL('../docs/console/', import.meta.url));
mkdirSync(out, { recursive: true });

const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const shoot = async (name) => {
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: `${out}${name}.png` });
    console.log(`console-screenshots: ${out}${name}.png`);
  };

  await page.goto(`${consoleUrl}/?range=15m&sort=-failurePercent`);
  const failing = page.getByTestId('task-row').first();
  await failing.waitFor();
  await failing.click();
  await page.getByTestId('chart-runs').waitFor();
  await shoot('tasks');

  await failing.getByTestId('task-failures-link').click();
  const group = page.getByTestId('failure-group').first();
  await group.waitFor();
  await shoot('failures');

  await group.getByTestId('latest-trace').click();
  await page.getByTestId('exception-message').first().waitFor();
  await shoot('trace');
} finally {
  await browser.close();
}
