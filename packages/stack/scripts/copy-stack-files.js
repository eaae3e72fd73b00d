// `prepack` of @tasklens/stack: copies the files the native stack (`startStack`,
// `buildStackBinaries`, so `tasklens stack up|build`) reads from the repository into
// packages/stack/stack-files (git-ignored), laid out as at the repository's root, so that the
// installed package can run the stack. The repository stays their one source; `postpack` runs this
// with --remove to delete the copy again. Tests of the files (promtool tests, deploy/test) and the
// Docker-only files (docker-compose.yml, Grafana) are not shipped.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const target = fileURLToPath(new URL('../stack-files/', import.meta.url));

/** Paths relative to the repository's root: what the native stack and ensure-binaries.sh read. */
export const STACK_FILES = [
  'otel-collector.yaml',
  'deploy/versions.json',
  'deploy/collector',
  'deploy/gateway',
  'deploy/jaeger',
  'deploy/prometheus/prometheus.yml',
  'deploy/prometheus/rules',
  'deploy/alertmanager',
  'deploy/metrics-store',
  'scripts/ensure-binaries.sh',
];

rmSync(target, { recursive: true, force: true });
if (process.argv[2] !== '--remove') {
  for (const path of STACK_FILES) {
    cpSync(repository + path, target + path, { recursive: true });
  }
}
