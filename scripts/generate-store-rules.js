// Writes deploy/metrics-store/rules/: the rules of deploy/prometheus/rules rewritten for the
// metrics store's ruler by storeRuleVariant (packages/stack/src/store-rules.ts), for the
// metrics-store profile of docker-compose.yml, which has no Node to run the rewrite. The native
// stack rewrites the files itself when it starts. Run after `npm run build` whenever a rule file
// changes; deploy/test/store-rules.test.ts fails while the copies differ from a fresh rewrite.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { storeRuleVariant } from '@tasklens/stack';

const repo = fileURLToPath(new URL('..', import.meta.url));
const from = join(repo, 'deploy', 'prometheus', 'rules');
const to = join(repo, 'deploy', 'metrics-store', 'rules');
mkdirSync(to, { recursive: true });
for (const file of readdirSync(from).filter((name) => name.endsWith('.yml'))) {
  const source = readFileSync(join(from, file), 'utf8');
  const header =
    `# Generated from deploy/prometheus/rules/${file} by scripts/generate-store-rules.js for the\n` +
    '# metrics store (Thanos Rule): `anchored` rewritten, partial responses evaluated. Edit the\n' +
    '# source, then rerun the script.\n';
  writeFileSync(
    join(to, file),
    header + storeRuleVariant(source, { partialResponseStrategy: 'warn' }),
  );
}
