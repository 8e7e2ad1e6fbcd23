import { ACTIONS, POLICY, ROLE_RULES, grants } from './policy.ts';
import { ROLES } from './principal.ts';

export const POLICY_DOCS_BEGIN =
  '<!-- generated from src/manager/access/policy.ts by `npm run gen`; do not edit -->';
export const POLICY_DOCS_END = '<!-- end of generated roles -->';

const SCOPE_WORDS = { platform: 'platform', tenant: 'one tenant', project: 'one project' } as const;

/** A Markdown table with columns padded as Prettier pads them, so the page stays formatted. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The roles and the action matrix of docs/security/authentication.md, between the markers. */
export function renderPolicyDocs(): string {
  const roles = table(
    ['role', 'scope', 'may'],
    ROLES.map((r) => [`\`${r}\``, SCOPE_WORDS[ROLE_RULES[r].scope], ROLE_RULES[r].summary]),
  );
  const actions = table(
    ['action', 'on', ...ROLES.map((r) => `\`${r}\``)],
    ACTIONS.map((a) => [
      `\`${a}\` (${POLICY[a].doing})`,
      POLICY[a].scope,
      ...ROLES.map((r) => (grants(r, a) ? 'yes' : '')),
    ]),
  );
  return [
    POLICY_DOCS_BEGIN,
    '',
    roles,
    '',
    'Each operation of the API names one action of the policy (`x-kubeop-action` in `/openapi.json`).',
    'A role granted an action may do it only inside its own scope; a `platform` action done by a',
    'tenant or project role covers only its own part (lists are filtered to it).',
    '',
    actions,
    '',
    POLICY_DOCS_END,
  ].join('\n');
}

/** `page` with the text between the markers replaced by the current rendering. */
export function withPolicyDocs(page: string): string {
  const begin = page.indexOf(POLICY_DOCS_BEGIN);
  const end = page.indexOf(POLICY_DOCS_END);
  if (begin < 0 || end < begin) throw new Error('the page has no generated roles section');
  return page.slice(0, begin) + renderPolicyDocs() + page.slice(end + POLICY_DOCS_END.length);
}
