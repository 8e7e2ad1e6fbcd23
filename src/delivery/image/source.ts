import { SourceError, type Rendered, type Source, type SourceContext } from '../source.ts';
import type { ExposureOptions } from './options.ts';
import { renderImageApp, secretUses } from './render.ts';

export { appUrl } from './url.ts';
export { exposureFromConfig, type ExposureOptions } from './options.ts';

/**
 * The `image` source: a Deployment of one container image with its Service, route, autoscaler and
 * disruption budget. Its source revision is the image reference: `status.sourceRevision` and the
 * history say which image each revision ran.
 *
 * Before rendering it checks that every Secret the pods need (pull secret, env, envFrom, the TLS
 * Secret) exists with the keys named, so a missing one is reported on the App (`CredentialsMissing`,
 * retried: the Secret may appear later) instead of as pods stuck in CreateContainerConfigError.
 */
export function imageSource(options: ExposureOptions): Source {
  return {
    async render(ctx: SourceContext): Promise<Rendered> {
      const image = ctx.app.spec.source.image;
      if (!image) {
        throw new SourceError('RenderFailed', `App ${ctx.app.metadata.name} has no spec.source.image`);
      }
      await checkSecrets(ctx);
      return { objects: renderImageApp(ctx.app, ctx.namespace, options), sourceRevision: image.ref };
    },
  };
}

async function checkSecrets(ctx: SourceContext): Promise<void> {
  const cache = new Map<string, Promise<Record<string, string> | undefined>>();
  for (const use of secretUses(ctx.app)) {
    ctx.signal?.throwIfAborted();
    let data = cache.get(use.name);
    if (!data) {
      data = ctx.readSecret(use.name);
      cache.set(use.name, data);
    }
    const secret = await data;
    if (!secret) {
      throw new SourceError(
        'CredentialsMissing',
        `Secret ${use.name} (${use.where}) does not exist in namespace ${ctx.namespace}: create it or change ${use.where}`,
        { retryable: true },
      );
    }
    if (use.key !== undefined && !(use.key in secret)) {
      throw new SourceError(
        'CredentialsMissing',
        `Secret ${use.name} (${use.where}) has no key ${use.key}: add the key or change ${use.where}`,
        { retryable: true },
      );
    }
  }
}
