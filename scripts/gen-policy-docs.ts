// Regenerates the roles section of docs/security/authentication.md from the authorization policy.
// `npm run gen`; test/integration/repo/generated-policy-docs.test.ts fails while it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { withPolicyDocs } from '../src/manager/access/policy-docs.ts';

const target = new URL('../docs/security/authentication.md', import.meta.url);
writeFileSync(target, withPolicyDocs(readFileSync(target, 'utf8')));
console.log(`wrote ${target.pathname}`);
