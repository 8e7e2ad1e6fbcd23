import { randomBytes } from 'node:crypto';
import type { Logger } from '../platform/logging.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import type { KubeClient } from './client.ts';

export type EventType = 'Normal' | 'Warning';

/** Records Kubernetes Events (events.k8s.io/v1) about kubeOP's objects. */
export interface EventRecorder {
  record(regarding: KubeObject, type: EventType, reason: string, note: string): void;
}

/**
 * Best effort by contract: an Event that cannot be written is logged and dropped, never failing the
 * reconcile that reported it. Events of cluster-scoped objects go to the `default` namespace, as
 * kubectl describe looks for them there.
 */
export function kubeEventRecorder(
  client: KubeClient,
  opts: { controller: string; instance: string; logger: Logger },
): EventRecorder {
  return {
    record(regarding, type, reason, note) {
      const namespace = regarding.metadata.namespace ?? 'default';
      // MicroTime: RFC 3339 with microseconds.
      const now = new Date().toISOString().replace('Z', '000Z');
      const body = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
        eventTime: now,
        reportingController: opts.controller,
        reportingInstance: opts.instance,
        action: reason,
        reason,
        type,
        note: note.slice(0, 1024),
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: regarding.metadata.name,
          ...(regarding.metadata.namespace ? { namespace: regarding.metadata.namespace } : {}),
          ...(regarding.metadata.uid ? { uid: regarding.metadata.uid } : {}),
        },
      };
      client
        .request('POST', `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
          body,
        })
        .catch((err: unknown) => opts.logger.warn({ err, reason }, 'could not record event'));
    },
  };
}
