import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../platform/logging.ts';

/** What the campaign loop needs of one leadership term's elector (runtime/leader-election.ts). */
export interface TermElector {
  /** Campaigns, then leads; resolves when leadership is lost or stop() was called. Runs once. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

export interface TermCallbacks {
  onStartedLeading: () => void;
  onStoppedLeading: (why: 'lost' | 'stopped') => void;
  onNewLeader: (identity: string) => void;
}

export interface LeadershipOptions {
  /** A fresh elector for each term: an elector campaigns and leads once. */
  newElector: (callbacks: TermCallbacks) => TermElector;
  /** Starts the work guarded by leadership (controllers). */
  lead: () => void;
  /** Stops that work; resolves once none of it is in flight any more. */
  stepDown: () => Promise<void>;
  /**
   * What a lost lease does once the work has stopped: `'campaign-again'` (`kubeop all`, whose
   * process also serves the API) or a function that ends the process (standalone `kubeop operator`,
   * restarted clean by its supervisor, as controller-runtime does).
   */
  onLost: 'campaign-again' | (() => void);
  logger: Logger;
}

export type LeadershipState = 'campaigning' | 'leading' | 'stopped';

export interface LeadershipStatus {
  state: LeadershipState;
  /** The holder last observed on the Lease (ours included), if any. */
  holder?: string;
  /** When and why leadership was last lost (ISO time), while campaigning again. */
  lost?: { at: string; terms: number };
}

/**
 * Leadership as a sequence of terms. Contracts:
 * - At most one term leads at a time, and a new term campaigns only after `stepDown()` of the
 *   previous one resolved: nothing started under an old term is in flight when a new one may lead.
 * - Caches are not this loop's business: they keep running across terms, so a new term starts warm.
 * - The loop campaigns with the elector's retry period, so it takes the lease again as soon as the
 *   API server answers and the lease is free or expired; no separate reachability probe decides it.
 * - `stop()` stops the current term (a leader steps down and releases the lease) and resolves once
 *   the loop has ended; `onLost` is not called for a stop.
 */
export class Leadership {
  readonly #opts: LeadershipOptions;
  #stopped = false;
  #state: LeadershipState = 'campaigning';
  #holder: string | undefined;
  #lost: { at: string; terms: number } | undefined;
  #terms = 0;
  #current: TermElector | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: LeadershipOptions) {
    this.#opts = opts;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  isLeading(): boolean {
    return this.#state === 'leading';
  }

  status(): LeadershipStatus {
    return {
      state: this.#state,
      ...(this.#holder ? { holder: this.#holder } : {}),
      ...(this.#lost && this.#state !== 'leading' ? { lost: this.#lost } : {}),
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#current?.stop();
    await this.#loop;
    this.#state = 'stopped';
  }

  async #run(): Promise<void> {
    const log = this.#opts.logger;
    while (!this.#stopped) {
      let steppingDown: Promise<void> | undefined;
      let lost = false;
      const elector = this.#opts.newElector({
        onStartedLeading: () => {
          this.#state = 'leading';
          this.#terms++;
          this.#opts.lead();
        },
        onStoppedLeading: (why) => {
          this.#state = this.#stopped ? 'stopped' : 'campaigning';
          lost = why === 'lost' && !this.#stopped;
          steppingDown = this.#opts.stepDown().catch((err: unknown) => {
            log.error({ err }, 'stopping the work of a leadership term failed');
          });
        },
        onNewLeader: (identity) => {
          this.#holder = identity;
        },
      });
      this.#current = elector;
      try {
        await elector.run();
      } catch (err) {
        log.error({ err }, 'leader election failed; campaigning again');
        await sleep(1_000);
      }
      await steppingDown;
      if (this.#stopped) return;
      if (!lost) continue;
      this.#lost = { at: new Date().toISOString(), terms: this.#terms };
      if (this.#opts.onLost !== 'campaign-again') {
        this.#opts.onLost();
        return;
      }
      log.warn('lost the leader lease: controllers stopped, caches kept; campaigning again');
    }
  }
}
