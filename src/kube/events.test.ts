import { describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logging.ts';
import type { KubeObject } from '../schemas/kube-object.ts';
import { KubeApiError } from './client.ts';
import { kubeEventRecorder, seriesKey } from './events.ts';

interface Call {
  method: string;
  path: string;
  body: Record<string, unknown>;
  contentType?: string;
}

/** An events API in memory: keeps what was created, answers 404 for a patch of an unknown Event. */
function eventsApi() {
  const calls: Call[] = [];
  const stored = new Map<string, Record<string, unknown>>();
  return {
    calls,
    stored,
    async request<T>(
      method: string,
      path: string,
      opts: { body?: unknown; contentType?: string } = {},
    ): Promise<T> {
      await Promise.resolve();
      const body = (opts.body ?? {}) as Record<string, unknown>;
      calls.push({ method, path, body, ...(opts.contentType ? { contentType: opts.contentType } : {}) });
      if (method === 'POST') {
        const name = (body.metadata as { name: string }).name;
        stored.set(name, body);
        return body as T;
      }
      const name = decodeURIComponent(path.split('/').pop()!);
      const event = stored.get(name);
      if (!event) throw new KubeApiError(404, 'NotFound', `events "${name}" not found`);
      Object.assign(event, body);
      return event as T;
    },
  };
}

const app: KubeObject = {
  apiVersion: 'paas.kubeop.io/v1alpha1',
  kind: 'App',
  metadata: { name: 'shop', namespace: 'acme-web', uid: 'u-1' },
};
const logger = createLogger({ service: 'test', level: 'silent' });
let tick = 0;
const now = () => new Date(Date.UTC(2026, 11, 1, 22, 0, tick++));

describe('event series', () => {
  it('a repeated event updates one Event’s series instead of creating another', async () => {
    const api = eventsApi();
    const events = kubeEventRecorder(api, { controller: 'kubeop.io/app', instance: 'i', logger, now });
    for (let i = 0; i < 5; i++) events.record(app, 'Warning', 'DriftCorrected', 'Deployment/web was changed');
    await events.idle();
    expect(api.calls.map((c) => c.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
    expect(api.stored.size).toBe(1);
    const [event] = [...api.stored.values()];
    expect(event!.series).toMatchObject({ count: 5 });
    expect(String((event!.series as { lastObservedTime: string }).lastObservedTime)).toMatch(
      /^2026-12-01T22:00:\d\d\.\d{6}Z$/,
    );
    expect(api.calls[1]!.contentType).toBe('application/merge-patch+json');
    expect(api.calls[1]!.body).toEqual({ series: { count: 2, lastObservedTime: expect.any(String) } });
  });

  it('another reason, note, type or object is another Event', async () => {
    const api = eventsApi();
    const events = kubeEventRecorder(api, { controller: 'c', instance: 'i', logger, now });
    events.record(app, 'Warning', 'DriftCorrected', 'a');
    events.record(app, 'Warning', 'DriftCorrected', 'b');
    events.record(app, 'Normal', 'DriftCorrected', 'a');
    events.record(app, 'Warning', 'Pruned', 'a');
    events.record({ ...app, metadata: { ...app.metadata, name: 'other' } }, 'Warning', 'DriftCorrected', 'a');
    await events.idle();
    expect(api.calls.map((c) => c.method)).toEqual(['POST', 'POST', 'POST', 'POST', 'POST']);
    expect(seriesKey(app, 'Warning', 'R', 'n')).not.toBe(seriesKey(app, 'Warning', 'R', 'm'));
  });

  it('starts a new Event when the old one expired', async () => {
    const api = eventsApi();
    const events = kubeEventRecorder(api, { controller: 'c', instance: 'i', logger, now });
    events.record(app, 'Normal', 'Applied', 'revision 1');
    await events.idle();
    api.stored.clear();
    events.record(app, 'Normal', 'Applied', 'revision 1');
    events.record(app, 'Normal', 'Applied', 'revision 1');
    await events.idle();
    expect(api.calls.map((c) => c.method)).toEqual(['POST', 'PATCH', 'POST', 'PATCH']);
    expect([...api.stored.values()][0]!.series).toMatchObject({ count: 2 });
  });

  it('a failing write is dropped and does not stop the next', async () => {
    const api = eventsApi();
    let fail = true;
    const events = kubeEventRecorder(
      {
        request<T>(method: string, path: string, opts?: { body?: unknown; contentType?: string }) {
          if (fail) {
            fail = false;
            return Promise.reject(new KubeApiError(500, 'InternalError', 'etcd timeout'));
          }
          return api.request<T>(method, path, opts);
        },
      },
      { controller: 'c', instance: 'i', logger, now },
    );
    events.record(app, 'Normal', 'Applied', 'x');
    events.record(app, 'Normal', 'Applied', 'x');
    await events.idle();
    expect(api.calls.map((c) => c.method)).toEqual(['POST']);
  });
});
