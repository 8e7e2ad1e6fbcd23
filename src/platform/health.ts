/**
 * Liveness and readiness checks. Each component registers its own dependency checks (database,
 * cluster connection, certificate loaded…). A check passes by resolving and fails by throwing or by
 * not settling within the timeout.
 *
 * A readiness check is either required (the default: failing it fails `/readyz`, 503) or degrading:
 * failing it reports the component as `degraded`, with the reason, while the process stays ready
 * (200). `kubeop all` registers the operator's and admission's checks as degrading, because the
 * same process serves the manager API, which keeps accepting changes into the outbox while the
 * cluster is away; taking it out of rotation would turn a cluster outage into an API outage.
 */
export type Check = () => Promise<void> | void;

export interface CheckReport {
  /** `failing` when a required check fails, else `degraded` when a degrading one does, else `ok`. */
  status: 'ok' | 'degraded' | 'failing';
  checks: Record<string, { status: 'ok' | 'failing' | 'degraded'; error?: string }>;
  /** Required checks that fail. */
  failing: string[];
  /** Degrading checks that fail: the component is impaired, the process still serves. */
  degraded: string[];
}

export interface ReadinessOptions {
  /** Failing this check degrades the process instead of making it unready. */
  degrades?: boolean;
}

export class HealthChecks {
  readonly #liveness = new Map<string, Check>();
  readonly #readiness = new Map<string, Check>();
  readonly #degrading = new Set<string>();

  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** A probe of the process itself; failing it means the process should be restarted. */
  addLiveness(name: string, check: Check): void {
    this.#liveness.set(name, check);
  }

  /** A dependency the component needs before it can serve; failing it takes it out of rotation. */
  addReadiness(name: string, check: Check, opts: ReadinessOptions = {}): void {
    this.#readiness.set(name, check);
    if (opts.degrades) this.#degrading.add(name);
    else this.#degrading.delete(name);
  }

  live(): Promise<CheckReport> {
    return run(this.#liveness, this.#timeoutMs, new Set());
  }

  ready(): Promise<CheckReport> {
    return run(this.#readiness, this.#timeoutMs, this.#degrading);
  }
}

async function run(
  checks: Map<string, Check>,
  timeoutMs: number,
  degrading: Set<string>,
): Promise<CheckReport> {
  const entries = [...checks];
  const results = await Promise.all(entries.map(([, check]) => withTimeout(check, timeoutMs)));
  const report: CheckReport = { status: 'ok', checks: {}, failing: [], degraded: [] };
  entries.forEach(([name], i) => {
    const error = results[i];
    if (error === undefined) {
      report.checks[name] = { status: 'ok' };
    } else if (degrading.has(name)) {
      report.checks[name] = { status: 'degraded', error };
      report.degraded.push(name);
    } else {
      report.checks[name] = { status: 'failing', error };
      report.failing.push(name);
    }
  });
  report.status = report.failing.length ? 'failing' : report.degraded.length ? 'degraded' : 'ok';
  return report;
}

/** Resolves to undefined when the check passed, or to a short reason when it failed. */
async function withTimeout(check: Check, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${timeoutMs}ms`), timeoutMs);
  });
  const attempt = (async () => {
    try {
      await check();
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  })();
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
