export type KmsErrorCode =
  /** The stored value is not an envelope this version understands. */
  | 'KUBEOP_ERR_KMS_MALFORMED'
  /** The envelope names a key-encryption key the provider does not hold. */
  | 'KUBEOP_ERR_KMS_UNKNOWN_KEY'
  /** Authentication failed: the value was altered, or it belongs to another record. */
  | 'KUBEOP_ERR_KMS_DECRYPT';

/**
 * A failure to seal or open a secret. Messages name the record (table, column, row id) and the key
 * id, never key material or plaintext, so they are safe to log and to return as a 5xx cause.
 */
export class KmsError extends Error {
  readonly code: KmsErrorCode;
  constructor(code: KmsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KmsError';
    this.code = code;
  }
}
