import { describe, expect, it } from 'vitest';
import { Informer, type ListWatch, type WatchEventType } from '../../kube/informer.ts';
import { createLogger } from '../../platform/logging.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { ControllerBuilder } from './builder.ts';

/** A started informer fed by hand: `emit` is a watch event from the API server. */
async function fed(items: KubeObject[] = []) {
  let emit: (type: WatchEventType, o: KubeObject) => void = () => {};
  const listWatch: ListWatch = {
    list: async () => ({ items, resourceVersion: '1' }),
    watch: async (_rv, onEvent) => {
      emit = onEvent;
      return { abort: () => {} };
    },
  };
  const informer = new Informer({
    listWatch,
    logger: createLogger({ service: 'test', level: 'silent' }),
    resyncPeriodMs: 0,
  });
  informer.start();
  await informer.waitForSync();
  await new Promise((r) => setTimeout(r, 5));
  return { informer, emit: (type: WatchEventType, o: KubeObject) => emit(type, o) };
}

const obj = (
  kind: string,
  name: string,
  labels: Record<string, string> = {},
  namespace?: string,
): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, labels, resourceVersion: String(Math.random()), ...(namespace ? { namespace } : {}) },
});

describe('ControllerBuilder', () => {
  it('enqueues the key of a changed or deleted object of the kind it is for', async () => {
    const primary = await fed();
    const keys: string[] = [];
    const decl = ControllerBuilder.for('t', primary.informer).complete(async () => {});
    decl.bind((k) => keys.push(k));
    primary.emit('ADDED', obj('Tenant', 'acme'));
    primary.emit('DELETED', obj('Tenant', 'acme'));
    expect(keys).toEqual(['acme', 'acme']);
  });

  it('maps an owned object to its owner, a deleted one by its last known labels', async () => {
    const primary = await fed();
    const owned = await fed();
    const keys: string[] = [];
    ControllerBuilder.for('p', primary.informer)
      .owns(owned.informer, (o) => o.metadata.labels?.project)
      .complete(async () => {})
      .bind((k) => keys.push(k));
    owned.emit('ADDED', obj('Role', 'r', { project: 'web' }, 'ns'));
    owned.emit('ADDED', obj('Role', 'unowned', {}, 'ns'));
    // The delete event's object carries no labels; the owner comes from the stored version.
    owned.emit('DELETED', obj('Role', 'r', {}, 'ns'));
    expect(keys).toEqual(['web', 'web']);
  });

  it('maps a watched object to every key its map function names', async () => {
    const primary = await fed();
    const other = await fed();
    const keys: string[] = [];
    ControllerBuilder.for('p', primary.informer)
      .watches(other.informer, (o) => [`${o.metadata.name}-1`, `${o.metadata.name}-2`])
      .complete(async () => {})
      .bind((k) => keys.push(k));
    other.emit('MODIFIED', obj('Tenant', 'acme'));
    expect(keys).toEqual(['acme-1', 'acme-2']);
  });

  it('lists every key of its kind and stops mapping once unbound', async () => {
    const primary = await fed([obj('App', 'a', {}, 'ns'), obj('App', 'b', {}, 'ns')]);
    const keys: string[] = [];
    const decl = ControllerBuilder.for('a', primary.informer).complete(async () => {});
    expect(decl.keys().sort()).toEqual(['ns/a', 'ns/b']);
    const unbind = decl.bind((k) => keys.push(k));
    unbind();
    primary.emit('ADDED', obj('App', 'c', {}, 'ns'));
    expect(keys).toEqual([]);
  });
});
