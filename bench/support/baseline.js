// An earlier revision of tasklens beside today's, in the same rounds of a broker benchmark:
// BENCH_BASELINE names a built checkout of it (`git worktree add DIR REV`, then `npm ci` and
// `npx tsc --build` in DIR). Its adapter package is imported from that checkout, which brings its
// own copy of @tasklens/core; both record through the one global OpenTelemetry API, so they run
// on the same benchmark SDK. Unset: no baseline variant.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The baseline's adapter module (`bullmq`, `amqplib` or `nats`) and the name of its variant, or
 * undefined without BENCH_BASELINE.
 */
export async function baselineAdapter(pkg) {
  const dir = process.env.BENCH_BASELINE;
  if (dir === undefined || dir === '') return undefined;
  const revision = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  const entry = join(dir, 'packages', pkg, 'dist', 'index.js');
  let adapter;
  try {
    adapter = await import(pathToFileURL(entry).href);
  } catch (error) {
    throw new Error(
      `BENCH_BASELINE=${dir}: cannot import ${entry} (${error.message}); build the checkout ` +
        'with `npm ci && npx tsc --build` in it',
    );
  }
  return { name: `tasklens at ${revision}, SDK`, adapter };
}
