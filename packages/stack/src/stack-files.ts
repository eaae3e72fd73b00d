import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Folder of an installed @tasklens/stack that holds the stack's config files: otel-collector.yaml,
 * deploy/ (versions, collector manifest and auth, Jaeger, Prometheus config and rules,
 * Alertmanager) and scripts/ensure-binaries.sh, laid out as at the repository's root. The
 * package's `prepack` script copies them there from the repository, which stays their one source.
 */
export const PACKAGED_STACK_FILES_DIR = 'stack-files';

/** Where the native stack reads its config files from. */
export interface StackFilesLocation {
  /**
   * `repository`: this package runs from a tasklens checkout (packages/stack), so the repository's
   * own files are used; `package`: an installed @tasklens/stack, with the copy it ships.
   */
  source: 'repository' | 'package';
  /** Holds otel-collector.yaml, deploy/ and scripts/ensure-binaries.sh. */
  dir: string;
}

/** The @tasklens/stack package folder (src/ and dist/ sit at the same depth). */
function stackPackageDir(): string {
  return fileURLToPath(new URL('../', import.meta.url));
}

/**
 * Finds the stack's config files: the repository's when this package is the packages/stack folder
 * of a tasklens checkout (so a copy left by an interrupted `npm pack` never shadows them), else
 * the copy the installed package ships in {@link PACKAGED_STACK_FILES_DIR}.
 */
export function locateStackFiles(packageDir: string = stackPackageDir()): StackFilesLocation {
  const repository = dirname(dirname(packageDir));
  if (
    basename(dirname(packageDir)) === 'packages' &&
    existsSync(join(repository, 'deploy', 'versions.json'))
  ) {
    return { source: 'repository', dir: repository };
  }
  return { source: 'package', dir: join(packageDir, PACKAGED_STACK_FILES_DIR) };
}

/**
 * The folder the native stack reads its config files from unless told otherwise (the `repoDir`
 * default of `startStack`): the root of the tasklens checkout this package runs from, else the
 * `stack-files` folder of the installed @tasklens/stack.
 *
 * @example
 * ```ts
 * console.log(`config files: ${stackFilesDir()}/otel-collector.yaml and deploy/`);
 * ```
 */
export function stackFilesDir(): string {
  return locateStackFiles().dir;
}

/**
 * The stack's default state directory. In a tasklens checkout `<repository>/.tasklens/stack`
 * (git-ignored; the demo and the repository's own scripts use it); for an installed package the
 * user's state directory, `$XDG_STATE_HOME/tasklens/stack`, else `~/.local/state/tasklens/stack`,
 * beside the spool of @tasklens/node, never inside node_modules.
 */
export function defaultStackStateDir(
  location: StackFilesLocation = locateStackFiles(),
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (location.source === 'repository') {
    return join(location.dir, '.tasklens', 'stack');
  }
  // The XDG spec says a relative XDG_STATE_HOME is invalid and is to be ignored.
  const stateHome = env.XDG_STATE_HOME;
  const base =
    stateHome !== undefined && isAbsolute(stateHome)
      ? stateHome
      : join(homedir(), '.local', 'state');
  return join(base, 'tasklens', 'stack');
}

/** The script that installs and builds the stack's binaries, inside `location`. */
export function ensureBinariesScript(location: StackFilesLocation = locateStackFiles()): string {
  return join(location.dir, 'scripts', 'ensure-binaries.sh');
}
