import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withPolicyDocs } from '../../../src/manager/access/policy-docs.ts';

// The roles table of the authentication page is rendered from src/manager/access/policy.ts; this
// fails when the committed page no longer matches the policy. Fix with `npm run gen`.
describe('generated roles table', () => {
  it('docs/security/authentication.md matches the authorization policy', () => {
    const page = readFileSync(new URL('../../../docs/security/authentication.md', import.meta.url), 'utf8');
    expect(page, 'stale: run `npm run gen`').toBe(withPolicyDocs(page));
  });
});
