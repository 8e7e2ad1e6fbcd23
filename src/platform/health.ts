/**
 * Liveness and readiness checks. Each component registers its own dependency checks (database,
 * cluster connection, certificate loaded…); `/readyz` passes only when every one passes.
 * A check passes by resolving and fails by throwing or by not settling within the timeout.
 */
export type Check = () => Promise<void> | void;

export interface CheckReport {
  status: 'ok' | 'failing';
  checks: Record<string, { status: 'ok' | 'failing'; error?: string }>;
  failing: string[];
}

export class HealthChecks {
  readonly #liveness = new Map<string, Check>();
  readonly #readiness = new Map<string, Check>();

  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** A probe of the process itself; failing it means the process should be restarted. */
  addLiveness(name: string, check: Check): void {
    this.#liveness.set(name, check);
  }

  /** A dependency the component needs before it can serve; failing it takes it out of rotation. */
  addReadiness(name: string, check: Check): void {
    this.#readiness.set(name, check);
  }

  live(): Promise<CheckReport> {
    return run(this.#liveness, this.#timeoutMs);
  }

  ready(): Promise<CheckReport> {
    return run(this.#readiness, this.#timeoutMs);
  }
}

async function run(checks: Map<string, Check>, timeoutMs: number): Promise<CheckReport> {
  const entries = [...checks];
  const results = await Promise.all(entries.map(([, check]) => withTimeout(check, timeoutMs)));
  const report: CheckReport = { status: 'ok', checks: {}, failing: [] };
  entries.forEach(([name], i) => {
    const error = results[i];
    if (error === undefined) {
      report.checks[name] = { status: 'ok' };
    } else {
      report.checks[name] = { status: 'failing', error };
      report.failing.push(name);
      report.status = 'failing';
    }
  });
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
