import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../kube/client.ts';
import { withDeadline } from '../../platform/deadline.ts';
import type { LeadershipStatus } from './leadership.ts';

/**
 * The readiness check `kubernetes-api`: asks the API server's own `/readyz`, with a deadline under
 * the readiness timeout. At most one probe is in flight: a probe still waiting on a hung API server
 * is shared by the checks that arrive meanwhile, so probes never pile up sockets.
 */
export function apiServerProbe(kc: KubeConfig, readinessTimeoutMs: number): () => Promise<void> {
  const client = new KubeClient(kc, { fieldManager: 'kubeop-readiness' });
  const deadlineMs = Math.max(100, readinessTimeoutMs - 250);
  let inFlight: Promise<void> | undefined;
  return () => {
    inFlight ??= client
      .request('GET', '/readyz')
      .then(() => undefined)
      .finally(() => (inFlight = undefined));
    return withDeadline('GET /readyz', deadlineMs, inFlight).catch((err: unknown) => {
      throw new Error(`API server unreachable: ${(err as Error).message}`, { cause: err });
    });
  };
}

/** The readiness check `operator-leadership`: passes while leading; otherwise says why not. */
export function leadershipCheck(status: LeadershipStatus): void {
  if (status.state === 'leading') return;
  const holder = status.holder ? `; the lease is held by ${status.holder}` : '';
  if (status.lost)
    throw new Error(
      `not leading: lost the leader lease at ${status.lost.at}; controllers and metering stopped, campaigning again${holder}`,
    );
  throw new Error(`not leading: ${status.state}${holder}`);
}
