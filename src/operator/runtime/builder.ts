import type { SharedInformer } from '../../kube/informer.ts';
import { keyOf, type KubeObject } from '../../schemas/kube-object.ts';
import type { Reconcile } from './controller.ts';

type Subscribe = (enqueue: (key: string) => void) => () => void;

/**
 * What a controller declares beside itself (controller-runtime's builder): the kind it reconciles,
 * the objects whose changes name one of its keys, and its reconcile. The operator turns it into a
 * running Controller; the controller's folder owns the mapping.
 */
export interface ControllerDeclaration {
  readonly name: string;
  readonly reconcile: Reconcile;
  /** Subscribes every watch; each change enqueues the keys it maps to. Returns the unsubscribe. */
  bind(enqueue: (key: string) => void): () => void;
  /** Every key of the reconciled kind: all are reconciled when a leadership term starts. */
  keys(): string[];
}

/**
 * Contracts of the mapping, whatever the watch:
 * - A handler never looks at the event type: it names the keys whose desired state may depend on
 *   the object that changed, and the reconcile reads fresh state. A missed or repeated event changes
 *   nothing but how soon a key is reconciled.
 * - A delete is mapped with the object's last stored version, so the owners of a deleted object
 *   are reconciled (and recreate it, or notice it is gone).
 * - Map functions run inside the informer's handler: they must be pure, quick and must not throw.
 */
export class ControllerBuilder<T extends KubeObject> {
  readonly #name: string;
  readonly #primary: SharedInformer<T>;
  readonly #watches: Subscribe[] = [];

  private constructor(name: string, primary: SharedInformer<T>) {
    this.#name = name;
    this.#primary = primary;
    this.#watches.push((enqueue) => primary.onChange((key) => enqueue(key)));
  }

  /** A controller of the objects of `primary`: every change enqueues that object's own key. */
  static for<T extends KubeObject>(name: string, primary: SharedInformer<T>): ControllerBuilder<T> {
    return new ControllerBuilder(name, primary);
  }

  /**
   * Objects this controller creates for its own (by a label or an owner reference): a change
   * enqueues the owner `owner` names, none when it names none.
   */
  owns<U extends KubeObject>(informer: SharedInformer<U>, owner: (obj: U) => string | undefined): this {
    return this.watches(informer, (obj) => {
      const key = owner(obj);
      return key ? [key] : [];
    });
  }

  /** Any other objects the desired state depends on: a change enqueues every key `map` returns. */
  watches<U extends KubeObject>(informer: SharedInformer<U>, map: (obj: U) => Iterable<string>): this {
    this.#watches.push((enqueue) =>
      informer.onChange((_key, obj, deleted) => {
        const known = obj ?? deleted;
        if (known) for (const key of map(known)) enqueue(key);
      }),
    );
    return this;
  }

  complete(reconcile: Reconcile): ControllerDeclaration {
    const watches = [...this.#watches];
    const primary = this.#primary;
    return {
      name: this.#name,
      reconcile,
      bind(enqueue) {
        const unsubscribes = watches.map((subscribe) => subscribe(enqueue));
        return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
      },
      keys: () => primary.list().map((o) => keyOf(o.metadata)),
    };
  }
}
