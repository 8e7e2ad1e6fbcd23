import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../platform/logging.ts';
import { keyOf, type KubeObject } from '../schemas/kube-object.ts';
import { Informer, isGone, type InformerOptions, type ListWatch, type WatchEventType } from './informer.ts';

type Obj = KubeObject & { data?: Record<string, string> };

const obj = (name: string, rv: number, data: Record<string, string> = {}, namespace = 'ns'): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, resourceVersion: String(rv) },
  data,
});

const gone = () => Object.assign(new Error('too old resource version'), { code: 410 });

interface FakeWatch {
  resourceVersion: string;
  aborted: boolean;
  emit(type: WatchEventType, o: Obj): void;
  end(err?: unknown): void;
}

/** An API server in memory: `lists` and `watches` record every call the informer made. */
class FakeListWatch implements ListWatch<Obj> {
  items: Obj[] = [];
  resourceVersion = '1';
  lists = 0;
  listError: unknown;
  watches: FakeWatch[] = [];

  async list() {
    this.lists++;
    if (this.listError) throw this.listError;
    return { items: [...this.items], resourceVersion: this.resourceVersion };
  }

  async watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, o: Obj) => void,
    onDone: (err?: unknown) => void,
  ) {
    const w: FakeWatch = { resourceVersion, aborted: false, emit: onEvent, end: onDone };
    this.watches.push(w);
    return { abort: () => void (w.aborted = true) };
  }

  get current(): FakeWatch {
    return this.watches.at(-1)!;
  }
}

const informers: Informer<Obj>[] = [];
afterEach(() => {
  informers.splice(0).forEach((i) => i.stop());
  vi.useRealTimers();
});

function setup(opts: Partial<InformerOptions<Obj>> = {}) {
  const lw = new FakeListWatch();
  const informer = new Informer<Obj>({
    listWatch: lw,
    logger: createLogger({ service: 'test', level: 'silent' }),
    resyncPeriodMs: 0,
    ...opts,
  });
  informers.push(informer);
  const changes: Array<[string, Obj | undefined]> = [];
  informer.onChange((key, o) => changes.push([key, o]));
  return { lw, informer, changes };
}

async function started(s: ReturnType<typeof setup>) {
  s.informer.start();
  await s.informer.waitForSync();
  await vi.waitFor(() => expect(s.lw.watches).toHaveLength(1));
}

describe('Informer', () => {
  it('emits every listed key on the initial sync and then reports synced', async () => {
    const s = setup();
    s.lw.items = [
      obj('a', 1),
      obj('b', 2),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cluster-wide', resourceVersion: '3' } },
    ];
    s.lw.resourceVersion = '7';
    expect(s.informer.hasSynced()).toBe(false);

    await started(s);

    expect(s.informer.hasSynced()).toBe(true);
    expect(s.changes.map(([k]) => k).sort()).toEqual(['cluster-wide', 'ns/a', 'ns/b']);
    expect(s.informer.get('ns/a')).toEqual(obj('a', 1));
    expect(s.informer.list()).toHaveLength(3);
    expect(s.lw.current.resourceVersion).toBe('7');
  });

  it('applies watch events to the store and emits each key', async () => {
    const s = setup();
    s.lw.items = [obj('a', 1)];
    await started(s);
    s.changes.length = 0;

    s.lw.current.emit('ADDED', obj('b', 2));
    s.lw.current.emit('MODIFIED', obj('a', 3, { x: '1' }));
    s.lw.current.emit('DELETED', obj('b', 4));

    expect(s.changes).toEqual([
      ['ns/b', obj('b', 2)],
      ['ns/a', obj('a', 3, { x: '1' })],
      ['ns/b', undefined],
    ]);
    expect(s.informer.get('ns/a')?.data).toEqual({ x: '1' });
    expect(s.informer.get('ns/b')).toBeUndefined();
  });

  it('re-watches from the last resourceVersion, bookmarks included, when a watch ends normally', async () => {
    const s = setup();
    await started(s);

    s.lw.current.emit('ADDED', obj('a', 5));
    s.lw.current.emit('BOOKMARK', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: '', resourceVersion: '9' },
    });
    s.lw.current.end();

    await vi.waitFor(() => expect(s.lw.watches).toHaveLength(2));
    expect(s.lw.current.resourceVersion).toBe('9');
    expect(s.lw.lists).toBe(1);
    expect(s.informer.list()).toEqual([obj('a', 5)]);
  });

  it('relists on 410 Gone and emits only the differences, deletes of vanished objects included', async () => {
    const s = setup();
    s.lw.items = [obj('kept', 1), obj('changed', 2), obj('vanished', 3)];
    await started(s);
    s.changes.length = 0;

    s.lw.items = [obj('kept', 1), obj('changed', 20, { v: '2' }), obj('new', 21)];
    s.lw.resourceVersion = '30';
    s.lw.current.end(gone());

    await vi.waitFor(() => expect(s.lw.watches).toHaveLength(2));
    expect(s.lw.lists).toBe(2);
    expect(s.lw.current.resourceVersion).toBe('30');
    expect(s.changes).toEqual(
      expect.arrayContaining([
        ['ns/vanished', undefined],
        ['ns/changed', obj('changed', 20, { v: '2' })],
        ['ns/new', obj('new', 21)],
      ]),
    );
    expect(s.changes).toHaveLength(3);
    expect(
      s.informer
        .list()
        .map((o) => keyOf(o.metadata))
        .sort(),
    ).toEqual(['ns/changed', 'ns/kept', 'ns/new']);
  });

  it('restarts a failed watch from the last resourceVersion with a doubling backoff and no relist', async () => {
    vi.useFakeTimers();
    const s = setup();
    await started(s);
    s.lw.current.emit('ADDED', obj('a', 5));

    s.lw.current.end(new Error('connection reset'));
    await vi.advanceTimersByTimeAsync(199);
    expect(s.lw.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.lw.watches).toHaveLength(2);
    expect(s.lw.current.resourceVersion).toBe('5');

    s.lw.current.end(Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
    await vi.advanceTimersByTimeAsync(399);
    expect(s.lw.watches).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.lw.watches).toHaveLength(3);

    // An event is progress: the next failure waits the initial delay again.
    s.lw.current.emit('MODIFIED', obj('a', 6));
    s.lw.current.end(new Error('connection reset'));
    await vi.advanceTimersByTimeAsync(200);
    expect(s.lw.watches).toHaveLength(4);
    expect(s.lw.current.resourceVersion).toBe('6');
    expect(s.lw.lists).toBe(1);
    expect(s.informer.get('ns/a')).toEqual(obj('a', 6));
  });

  it('keeps retrying a failing list until it succeeds', async () => {
    const s = setup({ backoff: { initialMs: 1, maxMs: 4 } });
    s.lw.listError = new Error('connection refused');
    s.informer.start();

    await vi.waitFor(() => expect(s.lw.lists).toBeGreaterThanOrEqual(5));
    expect(s.informer.hasSynced()).toBe(false);
    s.lw.listError = undefined;
    s.lw.items = [obj('a', 1)];

    await s.informer.waitForSync();
    expect(s.informer.get('ns/a')).toEqual(obj('a', 1));
  });

  it('backs off when 410 keeps coming without progress instead of relisting in a loop', async () => {
    vi.useFakeTimers();
    const s = setup();
    await started(s);

    s.lw.current.end(gone());
    await vi.advanceTimersByTimeAsync(0);
    expect(s.lw.lists).toBe(2);
    s.lw.current.end(gone());
    await vi.advanceTimersByTimeAsync(199);
    expect(s.lw.lists).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.lw.lists).toBe(3);
  });

  it('treats a watch that closes at once without events as an error', async () => {
    vi.useFakeTimers();
    const s = setup();
    await started(s);

    s.lw.current.end();
    await vi.advanceTimersByTimeAsync(199);
    expect(s.lw.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.lw.watches).toHaveLength(2);
  });

  it('re-emits every key on each resync without listing', async () => {
    vi.useFakeTimers();
    const s = setup({ resyncPeriodMs: 1000 });
    s.lw.items = [obj('a', 1), obj('b', 2)];
    await started(s);
    s.changes.length = 0;

    await vi.advanceTimersByTimeAsync(1000);
    expect(s.changes.sort()).toEqual([
      ['ns/a', obj('a', 1)],
      ['ns/b', obj('b', 2)],
    ]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.changes).toHaveLength(4);
    expect(s.lw.lists).toBe(1);
  });

  it('stop() aborts the watch, ignores late events and stops resyncs and retries', async () => {
    vi.useFakeTimers();
    const s = setup({ resyncPeriodMs: 1000 });
    s.lw.items = [obj('a', 1)];
    await started(s);
    const watch = s.lw.current;
    s.changes.length = 0;

    s.informer.stop();
    expect(watch.aborted).toBe(true);
    watch.emit('ADDED', obj('late', 2));
    watch.end(new Error('aborted'));
    await vi.advanceTimersByTimeAsync(60_000);

    expect(s.changes).toEqual([]);
    expect(s.informer.get('ns/late')).toBeUndefined();
    expect(s.lw.watches).toHaveLength(1);
    expect(s.lw.lists).toBe(1);
    expect(() => s.informer.start()).toThrow(/already started or stopped/);
  });

  it('waitForSync rejects when stopped before the first list completes', async () => {
    const s = setup();
    s.lw.listError = new Error('connection refused');
    s.informer.start();
    const sync = s.informer.waitForSync();
    s.informer.stop();
    await expect(sync).rejects.toThrow(/stopped before its first sync/);
    expect(s.informer.hasSynced()).toBe(false);
  });

  it('keeps indexes in step with adds, updates, deletes and relists', async () => {
    const s = setup();
    s.informer.addIndex('team', (o) => (o.data?.team ? [o.data.team] : []));
    s.lw.items = [obj('a', 1, { team: 'red' }), obj('b', 2, { team: 'red' })];
    await started(s);
    const names = (team: string) =>
      s.informer
        .byIndex('team', team)
        .map((o) => o.metadata?.name)
        .sort();
    expect(names('red')).toEqual(['a', 'b']);

    s.lw.current.emit('MODIFIED', obj('a', 3, { team: 'blue' }));
    expect(names('red')).toEqual(['b']);
    expect(names('blue')).toEqual(['a']);

    s.lw.current.emit('DELETED', obj('b', 4, { team: 'red' }));
    expect(names('red')).toEqual([]);

    s.lw.items = [obj('c', 5, { team: 'blue' })];
    s.lw.current.end(gone());
    await vi.waitFor(() => expect(s.lw.lists).toBe(2));
    expect(names('blue')).toEqual(['c']);
    expect(() => s.informer.byIndex('nope', 'x')).toThrow(/no index named nope/);
    expect(() => s.informer.addIndex('team', () => [])).toThrow(/already registered/);
  });

  it('emits a delete with the last version it stored, for handlers that map it to owners', async () => {
    const s = setup();
    const deletes: Array<[string, Obj | undefined, Obj | undefined]> = [];
    s.informer.onChange((key, o, deleted) => deletes.push([key, o, deleted]));
    s.lw.items = [obj('a', 1, { owner: 'x' })];
    await started(s);
    s.lw.current.emit('DELETED', obj('a', 2));
    expect(deletes.at(-1)).toEqual(['ns/a', undefined, obj('a', 1, { owner: 'x' })]);
  });

  it('an index added after the start is built from the objects already stored', async () => {
    const s = setup();
    s.lw.items = [obj('a', 1, { team: 'red' }), obj('b', 2, { team: 'blue' })];
    await started(s);
    s.informer.addIndex('team', (o) => (o.data?.team ? [o.data.team] : []));
    expect(s.informer.byIndex('team', 'red').map((o) => o.metadata.name)).toEqual(['a']);
    s.lw.current.emit('MODIFIED', obj('b', 3, { team: 'red' }));
    expect(
      s.informer
        .byIndex('team', 'red')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('a throwing handler does not stop the others', async () => {
    const s = setup();
    s.informer.onChange(() => {
      throw new Error('boom');
    });
    const seen: string[] = [];
    s.informer.onChange((key) => seen.push(key));
    s.lw.items = [obj('a', 1)];
    await started(s);
    expect(seen).toEqual(['ns/a']);
  });
});

describe('list-watch helpers', () => {
  it('recognises 410 Gone as an HTTP status or a Status code', () => {
    expect(isGone({ statusCode: 410 })).toBe(true);
    expect(isGone({ code: 410 })).toBe(true);
    expect(isGone({ code: 500 })).toBe(false);
    expect(isGone(undefined)).toBe(false);
  });
});
