import type { App } from '../../schemas/crds/types.ts';

/**
 * The address an App is reached at, for `status.url`: the first host and first path, `https` unless
 * TLS mode is None (TLS defaults to Auto). Undefined when the App is not exposed.
 */
export function appUrl(app: Pick<App, 'spec'>): string | undefined {
  const expose = app.spec.expose;
  const host = expose?.hosts[0];
  if (!expose || !host) return undefined;
  const scheme = (expose.tls?.mode ?? 'Auto') === 'None' ? 'http' : 'https';
  return `${scheme}://${host}${expose.paths?.[0] ?? '/'}`;
}
