// Runs the vitest suite on this machine's Node with the workspace's packages, then every run of
// the test matrix (scripts/test-matrix.json: other Node versions and the other OTel JS line), and
// ends with one plain summary line over all of them ("N passed, N failed, N skipped") so that any
// CI can read the result. Exits non-zero when any run failed. Arguments go to the main run only;
// TASKLENS_MATRIX=off runs the main run alone.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { runs, test } from './matrix.js';

/**
 * Passed, failed and skipped tests in a vitest JSON report, and the names of the failed ones
 * (file › test); a file that failed to load fails.
 */
function countResults(file) {
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const names = results.testResults.flatMap((entry) => {
    const path = entry.name.replace(`${process.cwd()}/`, '');
    const failed = entry.assertionResults.filter((one) => one.status === 'failed');
    if (entry.status === 'failed' && failed.length === 0)
      return [`${path} (did not load or set up)`];
    return failed.map((one) => `${path} › ${one.fullName}`);
  });
  // A file whose set-up failed (a broker or backend missing) fails with no failed test in it:
  // count it as a failure too, so the summary never reads "0 failed" for a red run.
  const brokenFiles = results.testResults.filter(
    (entry) =>
      entry.status === 'failed' && !entry.assertionResults.some((one) => one.status === 'failed'),
  ).length;
  return {
    passed: results.numPassedTests,
    failed: results.numFailedTests + brokenFiles,
    skipped: results.numPendingTests + results.numTodoTests,
    names,
  };
}

function describe({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

const mainResults = '.tasklens/vitest-results.json';
mkdirSync('.tasklens', { recursive: true });
rmSync(mainResults, { force: true });
const main = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${mainResults}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
const outcomes = [
  { name: `main (Node ${process.versions.node})`, status: main.status ?? 1, file: mainResults },
];
if (process.env.TASKLENS_MATRIX !== 'off' && process.argv.length <= 2) {
  for (const run of runs()) outcomes.push({ name: run.name, status: test(run), file: run.results });
}

const total = { passed: 0, failed: 0, skipped: 0 };
console.log('');
for (const outcome of outcomes) {
  let counts;
  try {
    counts = countResults(outcome.file);
  } catch (error) {
    // No report at all (a build that failed): one failure, so the run never reads green.
    counts = { passed: 0, failed: 1, skipped: 0, names: [] };
    console.log(`${outcome.name}: vitest wrote no results (${error.message})`);
  }
  if (outcome.status !== 0 && counts.failed === 0) counts.failed = 1;
  console.log(`${outcome.name}: ${describe(counts)}`);
  // Named here, at the end, where a CI log that keeps only its tail still shows them.
  for (const name of counts.names) console.log(`  failed: ${name}`);
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
}
console.log(`\n${describe(total)}`);
process.exit(outcomes.every((outcome) => outcome.status === 0) ? 0 : 1);
