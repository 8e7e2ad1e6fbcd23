/**
 * Tenant-wide quota by allocation.
 *
 * Kubernetes enforces ResourceQuota per namespace, and that enforcement is linearizable: quota
 * admission updates the quota's `status.used` with optimistic concurrency, so concurrent pod
 * creations in one namespace can never exceed its `hard`. kubeOP builds the tenant-wide limit on
 * that: each project namespace's `hard` is a share of the tenant quota, and the shares never add up
 * to more than the tenant limit. Usage in every namespace is bounded by its share, so usage summed
 * over the tenant is bounded by the tenant limit — also under concurrent scale-ups in several
 * projects, because nothing is rewritten after the fact (the overshoot of "watch usage, then shrink
 * the other namespaces" schemes).
 *
 * Contract of `allocateTenantQuota` (pure):
 * - A project's reservation is max(hard in force, used): capacity freed by lowering a share is only
 *   handed out once the usage behind it is gone.
 * - Decreases always apply. An increase applies only when it fits in the limit minus every other
 *   project's reservation; otherwise the project keeps its current share and the resource is listed
 *   as denied. Increases are considered oldest project first (creation time, then name).
 * - `phases[0]` lowers shares (every value ≤ the share in force), `phases[1]` raises them; writing
 *   phase 0 before phase 1 keeps the sum of shares within the limit at every moment.
 * - Resources the tenant does not limit are not touched here.
 */
export interface ProjectQuotaState {
  name: string;
  createdAt: string;
  /** What the project spec asks for, by ResourceQuota resource name (milli-units). */
  requested: Record<string, bigint>;
  /** The `hard` in force (empty when the ResourceQuota does not exist yet). */
  hard: Record<string, bigint>;
  used: Record<string, bigint>;
}

export interface TenantAllocation {
  /** Final share per project for every tenant-limited resource. */
  shares: Map<string, Record<string, bigint>>;
  /** Two write phases: lowering first, then raising; each lists only projects that change. */
  phases: [Map<string, Record<string, bigint>>, Map<string, Record<string, bigint>>];
  denied: Map<string, string[]>;
  allocated: Record<string, bigint>;
  reserved: Record<string, bigint>;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

export function allocateTenantQuota(
  limits: Record<string, bigint>,
  projects: ProjectQuotaState[],
): TenantAllocation {
  const ordered = [...projects].sort((a, b) =>
    a.createdAt === b.createdAt ? a.name.localeCompare(b.name) : a.createdAt.localeCompare(b.createdAt),
  );
  const shares = new Map<string, Record<string, bigint>>(ordered.map((p) => [p.name, {}]));
  const lower = new Map<string, Record<string, bigint>>(ordered.map((p) => [p.name, {}]));
  const denied = new Map<string, string[]>();
  const allocated: Record<string, bigint> = {};
  const reserved: Record<string, bigint> = {};

  for (const [resource, limit] of Object.entries(limits)) {
    const reservation = new Map<string, bigint>();
    const pending: ProjectQuotaState[] = [];
    for (const p of ordered) {
      const current = p.hard[resource] ?? 0n;
      const wanted = p.requested[resource] ?? 0n;
      const used = p.used[resource] ?? 0n;
      lower.get(p.name)![resource] = min(current, wanted);
      if (wanted <= current) {
        shares.get(p.name)![resource] = wanted;
        reservation.set(p.name, max(wanted, used));
      } else {
        shares.get(p.name)![resource] = current;
        reservation.set(p.name, max(current, used));
        pending.push(p);
      }
    }
    for (const p of pending) {
      const wanted = p.requested[resource] ?? 0n;
      let others = 0n;
      for (const [name, r] of reservation) if (name !== p.name) others += r;
      if (others + wanted <= limit) {
        shares.get(p.name)![resource] = wanted;
        reservation.set(p.name, max(wanted, p.used[resource] ?? 0n));
      } else {
        denied.set(p.name, [...(denied.get(p.name) ?? []), resource]);
      }
    }
    allocated[resource] = [...shares.values()].reduce((sum, s) => sum + (s[resource] ?? 0n), 0n);
    reserved[resource] = [...reservation.values()].reduce((sum, r) => sum + r, 0n);
  }

  const changed = (a: Record<string, bigint>, b: Record<string, bigint>) =>
    Object.keys(a).some((k) => a[k] !== (b[k] ?? 0n)) || Object.keys(b).some((k) => k in limits && !(k in a));
  const phase0 = new Map<string, Record<string, bigint>>();
  const phase1 = new Map<string, Record<string, bigint>>();
  for (const p of ordered) {
    const current = Object.fromEntries(Object.keys(limits).map((r) => [r, p.hard[r] ?? 0n]));
    const low = lower.get(p.name)!;
    const final = shares.get(p.name)!;
    if (changed(low, current)) phase0.set(p.name, low);
    if (changed(final, changed(low, current) ? low : current)) phase1.set(p.name, final);
  }
  return { shares, phases: [phase0, phase1], denied, allocated, reserved };
}
