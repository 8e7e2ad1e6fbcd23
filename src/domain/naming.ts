import { createHash } from 'node:crypto';

/** Labels that bind kubeOP-managed objects to their tenant and project. */
export const LABEL_TENANT = 'paas.kubeop.io/tenant';
export const LABEL_PROJECT = 'paas.kubeop.io/project';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubeop';
export const FINALIZER = 'paas.kubeop.io/finalizer';
/** Label on every object an App delivered; its value is appLabelValue(app name). */
export const LABEL_APP = 'paas.kubeop.io/app';

const MAX = 63;
const HASH_LEN = 8;

function trimmed(part: string, max: number): string {
  return part.slice(0, max).replace(/-+$/, '');
}

/**
 * The namespace of a project: `<tenant>-<project>-<hash>`, at most 63 characters, DNS-1123.
 *
 * Contract: deterministic (the same pair always maps to the same name) and collision-free across
 * tenants: the suffix hashes the unambiguous pair `tenant/project` (`/` cannot occur in either name),
 * so `a-b`+`c` and `a`+`b-c` differ although their readable prefixes agree. Long names are shortened
 * in the readable part only; the hash still covers the full names. The Project reconciler also
 * refuses a namespace labelled for another tenant or project, so even a hash collision (2^-32 per
 * pair) could never hand one tenant's namespace to another.
 */
export function projectNamespace(tenant: string, project: string): string {
  const hash = createHash('sha256').update(`${tenant}/${project}`).digest('hex').slice(0, HASH_LEN);
  const budget = MAX - HASH_LEN - 2; // two separators
  let t = tenant;
  let p = project;
  if (t.length + p.length > budget) {
    const half = Math.floor(budget / 2);
    if (t.length <= half) p = trimmed(p, budget - t.length);
    else if (p.length <= half) t = trimmed(t, budget - p.length);
    else {
      t = trimmed(t, half);
      p = trimmed(p, budget - t.length);
    }
  }
  return `${t}-${p}-${hash}`;
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(name: string): boolean {
  return name.length <= MAX && dns1123Label.test(name);
}

const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The value of LABEL_APP for an App. An App name is a DNS-1123 subdomain of up to 253 characters
 * (dots, a leading digit); a label value — and the image source's object names, which use the same
 * rule — must be a DNS-1035 label of at most 63. Names that fit are kept; others become a readable
 * prefix plus a hash of the full name, so two Apps of one namespace never share a value.
 */
export function appLabelValue(app: string): string {
  if (app.length <= MAX && dns1035Label.test(app)) return app;
  const hash = createHash('sha256').update(app).digest('hex').slice(0, HASH_LEN);
  let readable = app.replaceAll('.', '-');
  if (!/^[a-z]/.test(readable)) readable = `app-${readable}`;
  readable = readable.slice(0, MAX - HASH_LEN - 1).replace(/-+$/, '');
  return `${readable}-${hash}`;
}
