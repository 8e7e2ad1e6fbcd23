import type { Counter } from 'prom-client';
import type { KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../kube/events.ts';
import type { InformerRef, SharedInformer } from '../../kube/informer.ts';
import type { Logger } from '../../platform/logging.ts';
import type { KubeObject } from '../../schemas/kube-object.ts';

/** What every controller declaration is built from; the operator makes one per process. */
export interface ControllerDeps {
  /**
   * The process's informer for `ref` (the same one for the same ref). The operator waits for every
   * informer asked for here to sync before any controller runs.
   */
  informer<T extends KubeObject = KubeObject>(ref: InformerRef): SharedInformer<T>;
  client: KubeClient;
  events: EventRecorder;
  /** Managed objects found changed by someone else and set back, by controller and kind. */
  drift: Counter<'controller' | 'kind'>;
  logger: Logger;
}
