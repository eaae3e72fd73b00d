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
  // A file whose set-up failed (a broker or backend missing) fails with no failed test in it:
  // count it as a failure too, so the summary never reads "0 failed" for a red run.
  const brokenFiles = results.testResults.filter(
    (file) =>
      file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  ).length;
  const failed = results.numFailedTests + brokenFiles;
  const skipped = results.numPendingTests + results.numTodoTests;
  summary = `${results.numPassedTests} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
} catch (error) {
  summary = `${summary} (${error.message})`;
}
console.log(`\n${summary}`);
process.exit(vitest.status ?? 1);
