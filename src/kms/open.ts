import { loadLocalKeyring, type KmsConfig } from './local.ts';
import type { KmsProvider } from './provider.ts';

/**
 * The KMS provider the configuration asks for. Today that is always the local keyring; an external
 * provider (Vault Transit, a cloud KMS) is added here behind a `KUBEOP_KMS_PROVIDER` variable, and
 * every caller (the manager's composition root, `kubeop kms …`) picks it up. Throws ConfigError for
 * missing or malformed keys; `warn` receives the development-mode warning.
 */
export function openKmsProvider(config: KmsConfig, opts: { warn: (message: string) => void }): KmsProvider {
  return loadLocalKeyring(config, opts);
}
