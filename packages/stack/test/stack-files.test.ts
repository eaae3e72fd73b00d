import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import {
  defaultStackStateDir,
  ensureBinariesScript,
  locateStackFiles,
  stackFilesDir,
} from '../src/stack-files.js';

describe('where the stack finds its config files and keeps its state', () => {
  it('uses the repository when the package is its packages/stack folder', () => {
    const repository = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
    const location = locateStackFiles();
    expect(location).toEqual({ source: 'repository', dir: repository });
    expect(stackFilesDir()).toBe(repository);
    expect(defaultStackStateDir(location)).toBe(join(repository, '.tasklens', 'stack'));
    expect(ensureBinariesScript(location)).toBe(join(repository, 'scripts', 'ensure-binaries.sh'));
  });

  it('uses the copy an installed package ships, and the user state directory', () => {
    const project = mkdtempSync(join(tmpdir(), 'tasklens-stack-files-'));
    const installed = join(project, 'node_modules', '@tasklens', 'stack');
    mkdirSync(join(installed, 'stack-files', 'deploy'), { recursive: true });
    writeFileSync(join(installed, 'stack-files', 'deploy', 'versions.json'), '{}');
    const location = locateStackFiles(installed);
    expect(location).toEqual({ source: 'package', dir: join(installed, 'stack-files') });
    expect(defaultStackStateDir(location, { XDG_STATE_HOME: '/var/state' })).toBe(
      '/var/state/tasklens/stack',
    );
    // A relative XDG_STATE_HOME is invalid by the XDG spec and ignored.
    for (const env of [{}, { XDG_STATE_HOME: 'relative' }]) {
      expect(defaultStackStateDir(location, env)).toBe(
        join(homedir(), '.local', 'state', 'tasklens', 'stack'),
      );
    }
  });
});
