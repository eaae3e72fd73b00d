// `npm run chaos [-- --rate 50 --collector-outage 5m ...]`: the chaos suite's long form. Each flag
// sets the CHAOS_* variable of the same name (chaos/chaos-options.ts), then the run goes through
// vitest (it runs the TypeScript harness) with chaos/vitest.config.ts; the exit code is its own.
import { spawnSync } from 'node:child_process';

const env = { ...process.env };
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index += 1) {
  const [flag, inline] = args[index].split('=', 2);
  const value = inline ?? args[(index += 1)];
  if (!flag.startsWith('--') || value === undefined) {
    console.error(`usage: npm run chaos -- [--rate N] [--collector-outage 5m] ... (got ${flag})`);
    process.exit(2);
  }
  env[`CHAOS_${flag.slice(2).replaceAll('-', '_').toUpperCase()}`] = value;
}
const vitest = spawnSync('npx', ['vitest', 'run', '--config', 'chaos/vitest.config.ts'], {
  stdio: 'inherit',
  env,
});
process.exit(vitest.status ?? 1);
