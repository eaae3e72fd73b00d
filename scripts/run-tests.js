// Runs the vitest suite and ends with one plain summary line ("N passed, N failed, N skipped")
// so that any CI can read the result; exits with vitest's own exit code.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const resultsFile = '.tasklens/vitest-results.json';
mkdirSync('.tasklens', { recursive: true });
rmSync(resultsFile, { force: true });
const vitest = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let summary = 'vitest wrote no results';
try {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const skipped = results.numPendingTests + results.numTodoTests;
  summary = `${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
} catch (error) {
  summary = `${summary} (${error.message})`;
}
console.log(`\n${summary}`);
process.exit(vitest.status ?? 1);
