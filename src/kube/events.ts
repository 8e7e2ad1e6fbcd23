import { randomBytes } from 'node:crypto';
import type { Logger } from '../platform/logging.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import { isNotFound, type KubeClient } from './client.ts';

export type EventType = 'Normal' | 'Warning';

/** Records Kubernetes Events (events.k8s.io/v1) about kubeOP's objects. */
export interface EventRecorder {
  record(regarding: KubeObject, type: EventType, reason: string, note: string): void;
}

/** How many distinct (object, type, reason, note) series the recorder remembers, oldest dropped first. */
export const MAX_SERIES = 4096;

/** The identity of a series: the same object, type, reason and note (as written, truncated). */
export function seriesKey(regarding: KubeObject, type: EventType, reason: string, note: string): string {
  const m = regarding.metadata;
  return JSON.stringify([
    regarding.apiVersion,
    regarding.kind,
    m.namespace ?? '',
    m.name,
    m.uid ?? '',
    type,
    reason,
    note.slice(0, 1024),
  ]);
}

// MicroTime: RFC 3339 with microseconds.
const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

interface Series {
  namespace: string;
  name: string;
  count: number;
}

/**
 * Best effort by contract: an Event that cannot be written is logged and dropped, never failing the
 * reconcile that reported it. Events of cluster-scoped objects go to the `default` namespace, as
 * kubectl describe looks for them there.
 *
 * No Event can spam: the first occurrence of an (object, type, reason, note) creates an Event, and
 * every repetition updates that Event's `series` (`count`, `lastObservedTime`) instead of creating
 * another — what client-go's events broadcaster does. Repetitions of one series are written one
 * after another (never two creates racing). When the Event is gone (events expire after an hour),
 * the next occurrence starts a new one. Series are remembered in memory only, at most MAX_SERIES;
 * after a restart a recurring event starts one new series.
 */
export function kubeEventRecorder(
  client: Pick<KubeClient, 'request'>,
  opts: { controller: string; instance: string; logger: Logger; now?: () => Date },
): EventRecorder & {
  /** Resolves when every write started so far has finished (for tests and shutdown). */
  idle(): Promise<void>;
} {
  const now = opts.now ?? (() => new Date());
  const series = new Map<string, Series>();
  /** The last write of each series; the next one of that series waits for it. */
  const writes = new Map<string, Promise<void>>();

  async function create(
    key: string,
    regarding: KubeObject,
    type: EventType,
    reason: string,
    note: string,
  ): Promise<void> {
    const namespace = regarding.metadata.namespace ?? 'default';
    const name = `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`;
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(now()),
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
    await client.request(
      'POST',
      `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      {
        body,
      },
    );
    series.set(key, { namespace, name, count: 1 });
    while (series.size > MAX_SERIES) series.delete(series.keys().next().value!);
  }

  async function write(key: string, regarding: KubeObject, type: EventType, reason: string, note: string) {
    const known = series.get(key);
    if (!known) return create(key, regarding, type, reason, note);
    const count = known.count + 1;
    try {
      await client.request(
        'PATCH',
        `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(known.namespace)}/events/${encodeURIComponent(known.name)}`,
        {
          // The API server requires a series to count at least 2 (the first occurrence and this one).
          body: { series: { count, lastObservedTime: microTime(now()) } },
          contentType: 'application/merge-patch+json',
        },
      );
      known.count = count;
      // Most recently used last, so the oldest series is the one dropped.
      series.delete(key);
      series.set(key, known);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      series.delete(key);
      await create(key, regarding, type, reason, note);
    }
  }

  return {
    record(regarding, type, reason, note) {
      const key = seriesKey(regarding, type, reason, note);
      const before = writes.get(key) ?? Promise.resolve();
      const next = before
        .then(() => write(key, regarding, type, reason, note))
        .catch((err: unknown) => opts.logger.warn({ err, reason }, 'could not record event'));
      writes.set(key, next);
      void next.then(() => {
        if (writes.get(key) === next) writes.delete(key);
      });
    },
    async idle() {
      await Promise.all([...writes.values()]);
    },
  };
}
