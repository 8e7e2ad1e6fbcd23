import type { Config } from '../platform/config.ts';
import { loadLocalKeyring } from './local.ts';
import type { KmsProvider } from './provider.ts';

/**
 * The KMS provider the configuration asks for. Today that is always the local keyring; an external
 * provider (Vault Transit, a cloud KMS) is added here behind a `KUBEOP_KMS_PROVIDER` variable, and
 * every caller (the manager's composition root, `kubeop kms …`) picks it up. Throws ConfigError for
 * missing or malformed keys; `warn` receives the development-mode warning.
 */
export function openKmsProvider(
  config: Pick<
    Config,
    | 'KUBEOP_KMS_MASTER_KEY'
    | 'KUBEOP_KMS_KEYS'
    | 'KUBEOP_KMS_ACTIVE_KEY'
    | 'KUBEOP_KMS_DEV_MODE'
    | 'KUBEOP_DATA_DIR'
  >,
  opts: { warn: (message: string) => void },
): KmsProvider {
  return loadLocalKeyring(config, opts);
}
