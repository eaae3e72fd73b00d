/* The bytes a flat directory holds, for the spool's size. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The total size of the files in `path` (not its subfolders); 0 when it does not exist. */
export async function directoryBytes(path: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(path);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of names) {
    try {
      const info = await stat(join(path, name));
      if (info.isFile()) total += info.size;
    } catch {
      // Sent and removed between the listing and the stat.
    }
  }
  return total;
}
