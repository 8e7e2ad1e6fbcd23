// Writes docs/multi-tenancy-checks.md from a JUnit report of the e2e run: every test whose title
// starts with a check id ("PL1-BC-HI-2: …", "PL1-BC-CPI-5 / HI-1 / HI-3: …", "GR-REGISTRY: …")
// counts for that check; a check passes when it has tests and none of them failed.
//
//   vitest run --project e2e test/e2e/tenancy.test.ts test/e2e/admission.test.ts   # writes reports/junit.xml
//   node test/support/admission-checks-report.ts reports/junit.xml docs/multi-tenancy-checks.md
import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

interface Check {
  id: string;
  check: string;
  by: string;
  note?: string;
  /** The tests cover only part of the check; a pass is reported as partial. */
  partial?: boolean;
}

// The Multi-Tenancy Benchmark checks (profile levels 1 and 2) kubeOP reports against, then the
// platform guardrails beyond the benchmark (ids GR-*, kubeOP's own).
const CHECKS: Check[] = [
  {
    id: 'PL1-CC-CPI-1',
    check: 'tenant cannot access cluster-scoped resources',
    by: 'RBAC (namespaced Roles only)',
  },
  {
    id: 'PL1-BC-CPI-2',
    check:
      'tenant cannot read or change the multi-tenancy resources (Tenant, Project, quotas, policies, webhook configurations)',
    by: 'RBAC + admission `managed-object`',
  },
  {
    id: 'PL1-BC-CPI-3',
    check: 'block added Linux capabilities',
    by: 'Pod Security `restricted` + mutating defaults (drop ALL)',
  },
  {
    id: 'PL1-BC-CPI-4',
    check: 'require running as non-root',
    by: 'Pod Security `restricted` + mutating defaults',
  },
  { id: 'PL1-BC-CPI-5', check: 'block privileged containers', by: 'Pod Security `restricted`' },
  {
    id: 'PL1-BC-CPI-6',
    check: 'block privilege escalation',
    by: 'Pod Security `restricted` + mutating defaults',
  },
  {
    id: 'PL1-CC-FNS-1',
    check:
      'every tenant namespace has a ResourceQuota, with cpu and memory (requests and limits) unless the project opts out',
    by: 'Tenant reconciler; default `KUBEOP_PROJECT_QUOTA_*`',
  },
  {
    id: 'PL1-CC-FNS-2',
    check: 'object-count quotas (pods, services, secrets, configmaps, PVCs)',
    by: 'Tenant reconciler',
  },
  {
    id: 'PL1-CC-TI-1',
    check: 'tenant cannot modify its ResourceQuota or LimitRange',
    by: 'RBAC + admission `managed-object`',
  },
  {
    id: 'PL1-CC-TI-2',
    check: "tenant cannot access other tenants' resources",
    by: 'RBAC per project namespace',
  },
  { id: 'PL1-BC-HI-1', check: 'block hostPath volumes', by: 'Pod Security `restricted`' },
  {
    id: 'PL1-BC-HI-2',
    check: 'block NodePort services unless the tenant policy allows',
    by: 'admission `service-type`',
  },
  { id: 'PL1-BC-HI-3', check: 'block host networking and host ports', by: 'Pod Security `restricted`' },
  { id: 'PL1-BC-HI-4', check: 'block host PID', by: 'Pod Security `restricted`' },
  { id: 'PL1-BC-HI-5', check: 'block host IPC', by: 'Pod Security `restricted`' },
  {
    id: 'PL1-BC-NI-1',
    check: 'default-deny network traffic across tenants',
    by: 'NetworkPolicies of the Project reconciler',
    note: 'policy objects checked; kwok nodes have no data plane',
  },
  {
    id: 'PL1-CC-DI-1',
    check: 'images pulled with imagePullPolicy Always (or digests)',
    by: 'mutating webhook',
  },
  {
    id: 'draft',
    check: 'PVC reclaim policy Delete; containers drop ALL capabilities',
    by: 'mutating defaults; admission `pvc-volume-name`',
    note: 'claims cannot bind an existing (possibly retained) volume; StorageClass reclaim policies are not checked',
    partial: true,
  },
  {
    id: 'PL2-BC-OPS-3',
    check: 'tenant admins create RoleBindings in their namespaces without escalating',
    by: 'RBAC (API server escalation check)',
  },
  { id: 'PL2-BC-OPS-4', check: 'tenant admins create NetworkPolicies in their namespaces', by: 'RBAC' },
  {
    id: 'PL2-CC-TI-1',
    check: 'tenant cannot escalate role privileges beyond their own',
    by: 'RBAC (API server escalation check)',
  },
  {
    id: 'GR-REGISTRY',
    check: "images only from the tenant's allowed registries, references parsed as the runtime parses them",
    by: 'admission `allowed-registries`, `image-reference`',
  },
  {
    id: 'GR-HOSTNAME',
    check: "ingress and route hostnames only under the tenant's domains; one hostname, one tenant",
    by: 'admission `hostname-domain`, `hostname-owner`, `hostname-required`',
  },
  {
    id: 'GR-SERVICE',
    check: 'LoadBalancer services and external IPs only when the tenant policy allows',
    by: 'admission `service-type`, `service-external-ips`',
  },
  {
    id: 'GR-QUOTA',
    check: "tenant-wide quota summed across the tenant's namespaces, without overshoot",
    by: 'Tenant reconciler (allocated shares)',
  },
  {
    id: 'GR-NSLABEL',
    check: 'namespace labels that bind a namespace to its tenant cannot be changed by the tenant',
    by: 'admission `namespace-labels` (and RBAC)',
  },
  {
    id: 'GR-REFERENCES',
    check: "Projects and Apps that reference another tenant's objects are refused",
    by: 'admission `project-tenant`, `app-namespace`',
  },
];

/** Tests that show a check without carrying its id in the title. */
const ALIASES: Record<string, string[]> = {
  'never lets concurrent pod creations in several projects exceed the tenant quota': ['GR-QUOTA'],
};

const ID = /^(?:PL\d-[A-Z]{2}-[A-Z]+-\d+|[A-Z]{2,4}-\d+|GR-[A-Z]+|draft)$/;

/** "PL1-BC-CPI-5 / HI-1 / HI-3: …" → the full ids, or [] when the title carries none. */
export function checkIds(title: string): string[] {
  const colon = title.indexOf(':');
  if (colon < 0) return ALIASES[title] ?? [];
  const parts = title
    .slice(0, colon)
    .split('/')
    .map((p) => p.trim());
  if (!parts.every((p) => ID.test(p)) || !/^(PL\d-|GR-|draft)/.test(parts[0]!)) return ALIASES[title] ?? [];
  let prefix = '';
  return parts.map((p) => {
    if (/^PL\d-/.test(p)) {
      prefix = p.split('-').slice(0, 2).join('-') + '-';
      return p;
    }
    return /^[A-Z]{2,4}-\d+$/.test(p) ? prefix + p : p;
  });
}

export interface TestResult {
  file: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped';
}

const unescape = (s: string) =>
  s
    .replaceAll('&gt;', '>')
    .replaceAll('&lt;', '<')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');

/** The test cases of a vitest JUnit report (what kubeOP's own runs write; not a general XML parser). */
export function parseJunit(xml: string): { results: TestResult[]; timestamp: string | undefined } {
  const results: TestResult[] = [];
  const re = /<testcase classname="([^"]*)" name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.matchAll(re)) {
    const body = m[4] ?? '';
    const status = /<(failure|error)\b/.test(body)
      ? 'failed'
      : /<skipped\b/.test(body)
        ? 'skipped'
        : 'passed';
    const full = unescape(m[2]!);
    results.push({ file: unescape(m[1]!), title: full.split(' > ').at(-1)!, status });
  }
  return { results, timestamp: /timestamp="([^"]+)"/.exec(xml)?.[1] };
}

export function renderReport(results: TestResult[], timestamp: string | undefined): string {
  const byId = new Map<string, TestResult[]>();
  for (const r of results) for (const id of checkIds(r.title)) byId.set(id, [...(byId.get(id) ?? []), r]);
  const verdict = (tests: TestResult[]) =>
    tests.some((t) => t.status === 'failed')
      ? 'failed'
      : tests.some((t) => t.status === 'passed')
        ? 'passed'
        : 'not run';
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const rows = CHECKS.map((c) => {
    const tests = byId.get(c.id) ?? [];
    const v = verdict(tests);
    const files = [...new Set(tests.map((t) => t.file.replace(/^.*\//, '')))].join(', ');
    const shown =
      v === 'passed'
        ? c.partial
          ? '✅ passed (partial)'
          : '✅ passed'
        : v === 'failed'
          ? '❌ failed'
          : '— not run';
    return `| ${c.id} | ${cell(c.check)} | ${cell(c.by)} | ${shown} | ${tests.length} (${files || '—'}) | ${cell(c.note ?? '')} |`;
  });
  const counts = { passed: 0, failed: 0, 'not run': 0 };
  for (const c of CHECKS) counts[verdict(byId.get(c.id) ?? [])]++;
  return [
    '# Multi-tenancy checks: results',
    '',
    '<!-- Generated by test/support/admission-checks-report.ts from an e2e JUnit report; do not edit. -->',
    '<!-- doc-test: timeout=900 -->',
    '',
    `Generated from the e2e run of ${timestamp ?? 'an unknown time'}: **${counts.passed} passed, ${counts.failed} failed, ${counts['not run']} not run** of ${CHECKS.length}.`,
    'Each check is one or more e2e tests that act as an impersonated tenant user against the real API',
    'server (the local control plane), with the operator and the admission webhooks running. The',
    'checks are those of the Kubernetes Multi-Tenancy Benchmarks (profile levels 1 and 2) that kubeOP',
    "reports against, followed by platform guardrails beyond the benchmark (ids `GR-*`, kubeOP's own).",
    'A test counts for a check when its title starts with the check id; a check passes when it has',
    'tests and none failed. How each rule works: [admission](admission.md), [tenancy](concepts/tenancy.md).',
    '',
    '| id | check | enforced by | result | tests | note |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '## Regenerate',
    '',
    '```bash',
    'npx vitest run --project e2e test/e2e/tenancy.test.ts test/e2e/admission.test.ts  # on a local control plane of its own; writes reports/junit.xml',
    'node test/support/admission-checks-report.ts reports/junit.xml > "${TMPDIR:-/tmp}/checks.md"',
    'diff <(grep "^| " docs/multi-tenancy-checks.md) <(grep "^| " "${TMPDIR:-/tmp}/checks.md")  # no difference: this page is current',
    '```',
    '',
    'With an output file the script writes the page itself:',
    '`node test/support/admission-checks-report.ts reports/junit.xml docs/multi-tenancy-checks.md`. Any',
    'JUnit report of a run that includes those two files works, such as `reports/junit.xml` after',
    '`npm test` (every vitest run rewrites that file, so generate right after the run).',
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input = 'reports/junit.xml', output] = process.argv.slice(2);
  const { results, timestamp } = parseJunit(readFileSync(input, 'utf8'));
  // Formatted like every other file of the repository, so `prettier --check` passes as generated.
  const report = await format(renderReport(results, timestamp), {
    ...(await resolveConfig(output ?? 'docs/x.md')),
    parser: 'markdown',
  });
  if (output) writeFileSync(output, report);
  else process.stdout.write(report);
}
