import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The Node.js and OpenTelemetry line a scratch project is installed for: which `node` runs npm,
 * npx and the user's processes, and the packages the project pins beside the tasklens tarballs.
 */
export interface InstallLine {
  /** For messages, e.g. `Node 20, OTel JS 2.x`. */
  name: string;
  /** The `node` executable; its folder goes first on PATH, so npm, npx and bins use it too. */
  nodeBinary: string;
  /** Packages installed beside the tarballs, `name → version range`. */
  dependencies: Record<string, string>;
  /** The @opentelemetry/api version the project must end up with, exactly one copy of it. */
  expectedApiVersion: RegExp;
}

/**
 * Node 20 (the one running the tests) with OTel JS 2.x: the project has API 1.9, BullMQ 6 and
 * ioredis 5, and npm installs @tasklens/node's SDK peers of the 2.x line to match the API.
 */
export const NODE_20_OTEL_2: InstallLine = {
  name: 'Node 20, OTel JS 2.x',
  nodeBinary: process.execPath,
  dependencies: { '@opentelemetry/api': '~1.9.1', bullmq: '^6.7.0', ioredis: '^5.11.1' },
  expectedApiVersion: /^1\.9\./,
};

interface TestMatrix {
  lines: Record<string, Record<string, string>>;
  runs: { node: string; line: string }[];
}

/**
 * Node 24 from the test matrix (scripts/test-matrix.json; the binary that `node scripts/matrix.js
 * install` put in the cache) with OTel JS 3.x: the project has the matrix's 3.x pins (API 1.10 and
 * the SDK packages a 3.x user has), BullMQ 6 and ioredis 5.
 */
export function node24Otel3(): InstallLine {
  const matrix = JSON.parse(
    readFileSync(join(REPOSITORY, 'scripts/test-matrix.json'), 'utf8'),
  ) as TestMatrix;
  const run = matrix.runs.find((candidate) => candidate.node.startsWith('24.'));
  if (run === undefined) throw new Error('scripts/test-matrix.json has no Node 24 run');
  const cache = process.env.TASKLENS_CACHE_DIR ?? join(homedir(), '.cache', 'tasklens');
  const nodeBinary = join(cache, 'node', run.node, 'bin', 'node');
  if (!existsSync(nodeBinary)) {
    throw new Error(
      `${nodeBinary} is missing: run \`node scripts/matrix.js install\` (npm test does)`,
    );
  }
  return {
    name: `Node ${run.node}, OTel JS 3.x`,
    nodeBinary,
    dependencies: { ...matrix.lines[run.line], bullmq: '^6.7.0', ioredis: '^5.11.1' },
    expectedApiVersion: /^1\.10\./,
  };
}

/** How one command in the scratch project ended. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A project outside the repository with every tasklens package installed from its tarball. */
export interface ScratchProject {
  dir: string;
  line: InstallLine;
  /** The environment its commands run in (PATH led by the line's node, no npm_* variables). */
  env: NodeJS.ProcessEnv;
  /** Runs `command args` in the project; never rejects on a non-zero exit. */
  run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<CommandResult>;
  /** Deletes the project and the tarballs. */
  remove(): Promise<void>;
}

/**
 * The environment of the scratch project's commands: this one's without the npm_* variables an
 * `npm test` run sets (they would point npm at the repository), with the line's node first on PATH.
 */
function scratchEnvironment(line: InstallLine): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  env.PATH = [dirname(line.nodeBinary), process.env.PATH ?? ''].join(delimiter);
  return env;
}

function runIn(
  dir: string,
  env: NodeJS.ProcessEnv,
  command: string,
  args: string[],
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function mustSucceed(what: string, result: CommandResult): CommandResult {
  if (result.code !== 0) {
    throw new Error(`${what} exited ${String(result.code)}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/**
 * Packs every published workspace package (`npm pack --workspace <name>` for each of
 * {@link publishedPackageNames}; @tasklens/stack's prepack copies the stack's config files in) into a
 * temporary folder, creates a project in another temporary
 * folder, outside the repository, and installs the tarballs and the line's dependencies there with
 * `npm install --prefer-offline` (the configured registry, the npm cache first). The packages must
 * be built (`npm run build`). `files` are copied into the project, as the user's own code.
 */
export async function createScratchProject(
  line: InstallLine,
  files: string[],
): Promise<ScratchProject> {
  if (!existsSync(join(REPOSITORY, 'packages', 'cli', 'dist', 'tasklens.js'))) {
    throw new Error(`the packages are not built; run \`npm run build\` in ${REPOSITORY} first`);
  }
  const env = scratchEnvironment(line);
  const tarballs = await mkdtemp(join(tmpdir(), 'tasklens-tarballs-'));
  const workspaces = (await publishedPackageNames()).flatMap((name) => ['--workspace', name]);
  mustSucceed(
    'npm pack',
    await runIn(REPOSITORY, env, 'npm', ['pack', ...workspaces, '--pack-destination', tarballs]),
  );
  const packed = (await readdir(tarballs)).filter((name) => name.endsWith('.tgz'));

  const dir = await mkdtemp(join(tmpdir(), 'tasklens-scratch-'));
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'tasklens-scratch', private: true, type: 'module' }, null, 2)}\n`,
  );
  for (const file of files) await copyFile(file, join(dir, basename(file)));
  mustSucceed(
    `npm install in ${dir} (${line.name})`,
    await runIn(dir, env, 'npm', [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      ...packed.map((name) => join(tarballs, name)),
      ...Object.entries(line.dependencies).map(([name, range]) => `${name}@${range}`),
    ]),
  );
  return {
    dir,
    line,
    env,
    run: (command, args, extraEnv = {}) => runIn(dir, { ...env, ...extraEnv }, command, args),
    remove: async () => {
      await rm(dir, { recursive: true, force: true });
      await rm(tarballs, { recursive: true, force: true });
    },
  };
}

/**
 * The published packages of the workspace, as npm names them (`@tasklens/core` …): those the
 * tarballs hold. Private workspaces (test helpers, repository tooling) are never packed.
 */
export async function publishedPackageNames(): Promise<string[]> {
  const names: string[] = [];
  for (const folder of await readdir(join(REPOSITORY, 'packages'))) {
    const manifest = join(REPOSITORY, 'packages', folder, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, private: isPrivate } = JSON.parse(await readFile(manifest, 'utf8')) as {
      name: string;
      private?: boolean;
    };
    if (isPrivate !== true) names.push(name);
  }
  return names;
}
