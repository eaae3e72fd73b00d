// The comment each bundle starts with, naming the third-party packages bundled into it and their
// licenses; scripts/bundle-cli.js and scripts/bundle-console.js put it on their output.
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';

/** The package.json of the npm package holding `file`, or `undefined` for our own files. */
export function packageOf(file) {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length).split(sep);
  const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  return JSON.parse(readFileSync(join(file.slice(0, at + marker.length), name, 'package.json')));
}

/** A comment naming the packages of `manifests` (package.json contents), with their licenses. */
export function packagesNotice(manifests) {
  const packages = new Map();
  for (const manifest of manifests) packages.set(manifest.name, manifest);
  if (packages.size === 0) return '';
  const lines = [...packages.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ name, version, license, author }) => {
      const by = typeof author === 'string' ? author : author?.name;
      return ` *   ${name}@${version}, ${license}${by ? `, ${by}` : ''}`;
    });
  return `/*\n * Bundled from these packages, each under its own license:\n${lines.join('\n')}\n */`;
}

/** A comment naming the third-party packages bundled into a rolldown chunk, with their licenses. */
export function bundledPackagesNotice(chunk) {
  return packagesNotice(
    chunk.moduleIds.map(packageOf).filter((manifest) => manifest !== undefined),
  );
}
