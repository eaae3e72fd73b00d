// Adds to package-lock.json the platform-specific optional packages (e.g.
// @msgpackr-extract/msgpackr-extract-darwin-arm64) that `npm install` leaves out when the registry
// it uses does not carry them: without them `npm ci` refuses the lock file as out of sync. Each
// added entry names its os and cpu, so npm skips it on other platforms without fetching it.
// Changes nothing when the lock file is complete. Run after `npm install`; scripts/setup.sh runs it
// before `npm ci`.
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORM_SUFFIX =
  /-(darwin|linux|win32|freebsd|openbsd|sunos|android|aix)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64|loong64)(?:-(gnu|musl|msvc))?$/;
const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const added = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path === '' ? '' : `${path}/`}node_modules/${name}`;
    const match = PLATFORM_SUFFIX.exec(name);
    if (lock.packages[nested] || lock.packages[`node_modules/${name}`] || match === null) continue;
    if (!/^\d+\.\d+\.\d+/.test(version)) continue;
    lock.packages[`node_modules/${name}`] = {
      version,
      cpu: [match[2]],
      optional: true,
      os: [match[1]],
    };
    added.push(`${name}@${version}`);
  }
}
if (added.length > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) =>
      a === '' ? -1 : b === '' ? 1 : a.localeCompare(b),
    ),
  );
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.error(`complete-lockfile: added ${added.join(', ')}`);
}
