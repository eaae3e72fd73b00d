// Bundles the `tasklens` command as installed (the package's bin); `npm run build` runs it after
// `tsc --build`. A job run every minute pays at each start for what it loads, and resolving and
// reading the nearly 300 module files of `tasklens run` (our packages and the OpenTelemetry SDK)
// was most of its start-up (BENCHMARKS.md). From tsc's output it writes:
//   packages/cli/dist/tasklens.js       src/bin.ts: turns on Node's compile cache, then imports
//   packages/cli/dist/tasklens-main.js  the command line, `run`, @tasklens/core and @tasklens/node
//                                        with the SDK packages installed at build time
// two files, so that the large one is compiled with the cache on. The other commands stay
// unbundled in dist/commands/ and load from node_modules when they run. dist/bin.js and
// dist/main.js stay as tsc wrote them: the command unbundled, and `main()` for code that imports
// @tasklens/cli.
import { chmodSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { bundledPackagesNotice } from './bundled-packages-notice.js';

const DIST = fileURLToPath(new URL('../packages/cli/dist/', import.meta.url));
const BIN = join(DIST, 'bin.js');
const MAIN = join(DIST, 'main.js');
const COMMAND = join(DIST, 'tasklens.js');
const BUNDLE = join(DIST, 'tasklens-main.js');

// The command line, `run` and everything it loads, in one file.
await build({
  input: MAIN,
  platform: 'node',
  // The SDK packages' ES module builds, which tree-shake; their CommonJS builds do not.
  resolve: { mainFields: ['module', 'main'] },
  // main.js imports each command when it runs; only `run` goes into the bundle.
  external: (id, importer) =>
    importer === MAIN && id.startsWith('./commands/') && id !== './commands/run.js',
  output: { file: BUNDLE, format: 'esm', codeSplitting: false, banner: bundledPackagesNotice },
  logLevel: 'warn',
});
// The bin: bin.js, importing that file instead of main.js.
await build({
  input: BIN,
  platform: 'node',
  plugins: [
    {
      name: 'import-the-bundle',
      resolveId: (id) =>
        id === './main.js' ? { id: `./${basename(BUNDLE)}`, external: true } : null,
    },
  ],
  output: { file: COMMAND, format: 'esm' },
  logLevel: 'warn',
});
chmodSync(COMMAND, 0o755);
console.log(`bundle-cli: ${COMMAND} and ${BUNDLE}`);
