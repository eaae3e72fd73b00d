import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

import { ensureBinariesScript } from './stack-files.js';
import type { StackBinaries } from './types.js';

/** The parts of deploy/versions.json that locate the built binaries. */
interface VersionsFile {
  collector: { version: string; manifest: string; binary: string };
  jaeger: GoModuleBuild;
  prometheus: GoModuleBuild;
  thanos: GoModuleBuild;
  victoriametrics: GoModuleBuild;
}

/** A binary built from a Go module version (Jaeger, Prometheus). */
interface GoModuleBuild {
  version: string;
  module: string;
  moduleVersion: string;
  binary: string;
}

/** Message appended to every "binary missing" error: the command that gets them. */
export const SETUP_HINT =
  'run `npx tasklens stack build` to install Alertmanager (Debian package, as root) and build ' +
  'the collector, Jaeger, Prometheus and Thanos with Go into $TASKLENS_CACHE_DIR, default ~/.cache/tasklens ' +
  '(in a tasklens checkout, `bash scripts/setup.sh` does the same)';

/**
 * Directory the built binaries are cached in, shared with scripts/ensure-binaries.sh:
 * `$TASKLENS_CACHE_DIR/bin`, default `~/.cache/tasklens/bin`.
 */
export function binaryCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheDir = env.TASKLENS_CACHE_DIR ?? join(homedir(), '.cache', 'tasklens');
  return join(cacheDir, 'bin');
}

function shortHash(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 12);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && (await isExecutable(join(dir, name)))) {
      return join(dir, name);
    }
  }
  return undefined;
}

function goModuleBuildDir(build: GoModuleBuild): string {
  return `${build.binary}-${build.version}-${shortHash(`${build.module}@${build.moduleVersion}`)}`;
}

async function readVersionsFile(repoDir: string): Promise<VersionsFile> {
  const versionsFile = join(repoDir, 'deploy', 'versions.json');
  let versionsText: string;
  try {
    versionsText = await readFile(versionsFile, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the stack's config files (${(error as Error).message}): run tasklens from a ` +
        'tasklens checkout, or reinstall @tasklens/stack, whose stack-files folder holds them',
    );
  }
  return JSON.parse(versionsText) as VersionsFile;
}

/**
 * Where scripts/ensure-binaries.sh puts the collector, Jaeger and Prometheus, computed the same way
 * from deploy/versions.json: `<cache>/bin/<binary>-<version>-<hash>/<binary>`, where hash is the
 * first 12 hex digits of the SHA-256 of the collector's builder manifest, or of
 * `<module>@<moduleVersion>` for Jaeger and Prometheus. Alertmanager is looked up on PATH (Debian's
 * package names it `prometheus-alertmanager`; an upstream build's `alertmanager` is accepted too).
 * Nothing is checked here.
 */
export async function expectedBinaryPaths(
  repoDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StackBinaries> {
  const { collector, jaeger, prometheus, thanos } = await readVersionsFile(repoDir);
  const binDir = binaryCacheDir(env);
  const manifest = await readFile(join(repoDir, collector.manifest));
  const collectorDir = `${collector.binary}-${collector.version}-${shortHash(manifest)}`;
  return {
    collector: join(binDir, collectorDir, collector.binary),
    jaeger: join(binDir, goModuleBuildDir(jaeger), jaeger.binary),
    prometheus: join(binDir, goModuleBuildDir(prometheus), prometheus.binary),
    thanos: join(binDir, goModuleBuildDir(thanos), thanos.binary),
    alertmanager:
      (await findOnPath('prometheus-alertmanager', env)) ??
      (await findOnPath('alertmanager', env)) ??
      'prometheus-alertmanager',
    node: process.execPath,
  };
}

/**
 * Where scripts/ensure-binaries.sh puts promtool: beside the Prometheus it builds from the same
 * module version. Nothing is checked here.
 */
export async function expectedPromtoolPath(
  repoDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const { prometheus } = await readVersionsFile(repoDir);
  return join(binaryCacheDir(env), goModuleBuildDir(prometheus), 'promtool');
}

/**
 * Where scripts/ensure-binaries.sh puts VictoriaMetrics single-node, a remote-write receiver that
 * the stack does not run (the remote-write tests do). Nothing is checked here.
 */
export async function expectedVictoriaMetricsPath(
  repoDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const { victoriametrics } = await readVersionsFile(repoDir);
  return join(binaryCacheDir(env), goModuleBuildDir(victoriametrics), victoriametrics.binary);
}

/**
 * Resolves the executables the stack runs and checks each one exists.
 *
 * @param repoDir - the tasklens repository (holds deploy/versions.json)
 * @param overrides - paths to use instead, field by field
 * @param needs - `metricsStore`: Thanos is checked too (it runs only in a stack with the store)
 * @throws Error naming every missing binary and saying to run `bash scripts/setup.sh`
 */
export async function resolveStackBinaries(
  repoDir: string,
  overrides: Partial<StackBinaries> = {},
  env: NodeJS.ProcessEnv = process.env,
  needs: { metricsStore?: boolean } = {},
): Promise<StackBinaries> {
  const binaries = { ...(await expectedBinaryPaths(repoDir, env)), ...overrides };
  const missing: string[] = [];
  for (const [name, path] of Object.entries(binaries)) {
    if (name === 'thanos' && needs.metricsStore !== true) {
      continue;
    }
    if (!(await isExecutable(path))) {
      missing.push(`${name} (${path})`);
    }
  }
  if (missing.length > 0) {
    throw new Error(`missing backend binaries: ${missing.join(', ')}; ${SETUP_HINT}`);
  }
  return binaries;
}

/**
 * Gets the binaries the stack runs, once: installs Alertmanager (Debian package; apt-get needs
 * root) and builds the collector, Jaeger and Prometheus with Go into `$TASKLENS_CACHE_DIR/bin`,
 * default `~/.cache/tasklens/bin`. Binaries already there are kept, so a second call does
 * nothing. Runs scripts/ensure-binaries.sh of the stack's config files (the checkout's, or the copy
 * the installed package ships) with bash; its progress goes to this process's stderr. This is
 * `tasklens stack build`.
 *
 * @returns the script's exit code: 0 once every binary is ready
 * @throws Error when bash cannot be started
 *
 * @example
 * ```ts
 * if ((await buildStackBinaries()) !== 0) throw new Error('the stack binaries are missing');
 * const stack = await startStack();
 * ```
 */
export function buildStackBinaries(): Promise<number> {
  return new Promise((resolveCode, reject) => {
    const child = spawn('bash', [ensureBinariesScript()], { stdio: ['ignore', 2, 2] });
    child.once('error', (error) => reject(new Error(`cannot run bash: ${error.message}`)));
    child.once('exit', (code) => resolveCode(code ?? 1));
  });
}
