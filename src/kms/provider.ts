/**
 * A KMS provider holds key-encryption keys (KEKs) and wraps and unwraps data keys with them. The data
 * never reaches it: each record is encrypted locally with its own data key (see envelope.ts) and only
 * that 32-byte key goes through `wrap`/`unwrap`. An external KMS (Vault Transit, a cloud KMS) plugs in
 * by implementing this interface; docs/security/kms.md says where it is wired.
 *
 * Contract for implementations:
 * - `keyId` names one immutable key version. Rotating a KEK means a new id (`k2`, or `transit/kubeop/3`
 *   for Vault), never new material under an old id, because the id is how a record finds its key.
 * - `wrap` authenticates what it returns: `unwrap` of altered bytes, or of bytes wrapped under another
 *   key, must throw rather than return a wrong key.
 * - `unwrap` throws KmsError `KUBEOP_ERR_KMS_UNKNOWN_KEY` for an id it does not hold, and
 *   `KUBEOP_ERR_KMS_DECRYPT` when authentication fails. Errors never contain key material.
 * - Both are safe to call concurrently.
 */
export interface KmsProvider {
  /** Short name for logs and status output (`local`, `vault-transit`). */
  readonly name: string;
  /** The key new data keys are wrapped with, and the one rotation moves every record to. */
  readonly activeKeyId: string;
  /** The ids this provider can unwrap with, the active one included. */
  keyIds(): readonly string[];
  /** Wraps `dataKey` under `keyId`, by default the active key. */
  wrap(dataKey: Uint8Array, keyId?: string): Promise<WrappedKey>;
  /** The data key `wrapped` holds; the caller zeroes it after use. */
  unwrap(keyId: string, wrapped: Uint8Array): Promise<Buffer>;
  /**
   * Optional: re-wraps under `toKeyId` without the data key leaving the KMS (Vault's `rewrap`).
   * Rotation uses it when present, `unwrap` then `wrap` otherwise.
   */
  rewrap?(keyId: string, wrapped: Uint8Array, toKeyId: string): Promise<WrappedKey>;
}

export interface WrappedKey {
  keyId: string;
  wrapped: Buffer;
}

/**
 * Key ids are stored in clear beside each ciphertext and read by SQL (`split_part(value, ':', 2)`),
 * so they exclude `:` and `,` (the keyring separator): 1–128 of letters, digits, `.`, `_`, `-`, `/`,
 * starting with a letter or digit.
 */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

export function isValidKeyId(id: string): boolean {
  return KEY_ID.test(id);
}
