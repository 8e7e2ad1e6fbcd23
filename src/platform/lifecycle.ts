import type { FastifyInstance } from 'fastify';
import type { Logger } from './logging.ts';

/**
 * Orderly shutdown. Closers run in reverse registration order (the HTTP server, registered last,
 * stops first; the database it used closes after it). Contract: `shutdown` runs the closers once no
 * matter how many signals arrive, and resolves to the exit code — 0 when everything closed within
 * the bound, 1 when something had to be cut off or failed.
 */
export class Lifecycle {
  readonly #closers: Array<{ name: string; close: () => Promise<void> }> = [];
  #shutdown: Promise<number> | undefined;
  #draining = false;

  private readonly logger: Logger;
  private readonly timeoutMs: number;

  constructor(logger: Logger, timeoutMs: number) {
    this.logger = logger;
    this.timeoutMs = timeoutMs;
  }

  /** True once shutdown began; `/readyz` reports it so load balancers stop sending traffic. */
  get draining(): boolean {
    return this.#draining;
  }

  onShutdown(name: string, close: () => Promise<void>): void {
    this.#closers.push({ name, close });
  }

  /** Stops accepting connections, lets in-flight requests finish within the bound, then cuts the rest. */
  addHttpServer(name: string, app: FastifyInstance): void {
    this.onShutdown(name, async () => {
      const timer = setTimeout(() => {
        this.logger.warn({ server: name }, 'in-flight requests did not finish in time; closing connections');
        app.server.closeAllConnections();
      }, this.timeoutMs);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
    });
  }

  shutdown(reason: string): Promise<number> {
    this.#shutdown ??= this.#run(reason);
    return this.#shutdown;
  }

  async #run(reason: string): Promise<number> {
    this.#draining = true;
    this.logger.info({ reason }, 'shutting down');
    const started = Date.now();
    let code = 0;
    for (const { name, close } of [...this.#closers].reverse()) {
      try {
        await close();
      } catch (err) {
        code = 1;
        this.logger.error({ err, component: name }, 'error during shutdown');
      }
    }
    if (Date.now() - started > this.timeoutMs) code = 1;
    this.logger.info({ durationMs: Date.now() - started, exitCode: code }, 'shutdown complete');
    return code;
  }

  /** SIGTERM and SIGINT start the shutdown; a second signal while draining exits at once. */
  handleSignals(exit: (code: number) => void): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (this.#draining) {
          this.logger.warn({ signal }, 'second signal during shutdown; exiting now');
          exit(1);
          return;
        }
        void this.shutdown(signal).then(exit);
      });
    }
  }

  /**
   * Shuts down when the parent process goes away (this process is re-parented). `npm start` and
   * `npm run kubeop` run kubeOP under npm, which does not pass SIGTERM on: without this, stopping
   * npm would leave kubeOP running, holding its port and its data directory. A process started
   * without a parent to lose (PID 1 in a container, or already re-parented) is unaffected.
   */
  exitWithParent(exit: (code: number) => void, intervalMs = 1000): void {
    const parent = process.ppid;
    if (parent <= 1) return;
    const timer = setInterval(() => {
      if (process.ppid === parent || this.#draining) return;
      clearInterval(timer);
      this.logger.warn({ parent }, 'parent process exited; shutting down');
      void this.shutdown('parent exited').then(exit);
    }, intervalMs);
    timer.unref();
  }
}
