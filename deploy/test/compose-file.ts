/*
 * docker-compose.yml and the files it names, read as data for the tests of its profiles (no
 * Docker daemon here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// Compose files are YAML 1.1; js-yaml reads them as Compose does.
import { load } from 'js-yaml';
import { REPO_DIR } from './run-tool.js';

export interface ComposeService {
  image?: string;
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

/** A file of the repository, as text. */
export const readRepoFile = (path: string): string => readFileSync(join(REPO_DIR, path), 'utf8');

export const compose = load(readRepoFile('docker-compose.yml')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

/** The service `name` of docker-compose.yml; throws when there is none. */
export function composeService(name: string): ComposeService {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** The `${env:NAME:-default}` references of a config file, as name → default. */
export function envDefaults(path: string): Map<string, string> {
  return new Map(
    [...readRepoFile(path).matchAll(/\$\{env:(\w+):-([^}]*)\}/g)].map((match) => [
      match[1] ?? '',
      match[2] ?? '',
    ]),
  );
}
