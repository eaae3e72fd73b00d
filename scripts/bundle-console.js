// Builds the page of `tasklens ui` (packages/cli/console-app) into what the console's server
// serves; `npm run build` runs it after bundle-cli.js. It needs nothing from `tsc --build`:
// rolldown reads the page's TypeScript itself (`tsc -p packages/cli/console-app` checks it).
//   packages/cli/dist/console-page/app.js      main.ts and uPlot, minified, one ES module
//   packages/cli/dist/console-page/app.css     uPlot's stylesheet, then ours
//   packages/cli/dist/console-page/index.html  the page every route answers with
// (dist/console/ holds the server, which tsc writes from src/console/).
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { bundledPackagesNotice, packagesNotice } from './bundled-packages-notice.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const APP = join(ROOT, 'packages/cli/console-app');
const OUT = join(ROOT, 'packages/cli/dist/console-page');
const require = createRequire(import.meta.url);
const UPLOT = dirname(require.resolve('uplot/package.json'));

mkdirSync(OUT, { recursive: true });

await build({
  input: join(APP, 'main.ts'),
  platform: 'browser',
  tsconfig: join(APP, 'tsconfig.json'),
  output: {
    file: join(OUT, 'app.js'),
    format: 'esm',
    codeSplitting: false,
    minify: true,
    // After minification, which would drop the comment.
    postBanner: bundledPackagesNotice,
  },
  logLevel: 'warn',
});

const uplotManifest = JSON.parse(readFileSync(join(UPLOT, 'package.json'), 'utf8'));
writeFileSync(
  join(OUT, 'app.css'),
  [
    packagesNotice([uplotManifest]),
    readFileSync(join(UPLOT, 'dist/uPlot.min.css'), 'utf8').trim(),
    readFileSync(join(APP, 'styles.css'), 'utf8'),
  ].join('\n'),
);
copyFileSync(join(APP, 'index.html'), join(OUT, 'index.html'));

for (const file of ['app.js', 'app.css', 'index.html']) {
  const path = join(OUT, file);
  console.log(
    `bundle-console: ${relative(ROOT, path)} ${(statSync(path).size / 1024).toFixed(1)} KiB`,
  );
}
