import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KmsError } from './errors.ts';
import { isValidKeyId, type KmsProvider } from './provider.ts';

/**
 * Envelope encryption of one stored value. Every record gets a fresh 256-bit data key; the value is
 * encrypted with it (AES-256-GCM, random 96-bit nonce) and the data key is wrapped by the provider's
 * key-encryption key. The stored text, version 1:
 *
 *     kms1:<key id>:<base64 wrapped data key>:<base64 nonce(12) ‖ ciphertext ‖ tag(16)>
 *
 * The record's identity (table, column, row id) is the GCM additional authenticated data, so a value
 * copied to another row, column or table fails to decrypt. The key id and wrapped key are not part of
 * it: rotation replaces exactly those two fields and leaves the last one, the data, byte for byte as
 * it was. Tampering with them is still caught: the provider authenticates the wrapped key under the
 * key id, and a wrong data key fails the data's tag.
 *
 * The key id is in clear so SQL can find the records that still use a key without decrypting them.
 */
export const ENVELOPE_VERSION = 'kms1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;

/** Which stored value this is. `id` is the row id as PostgreSQL prints it (`id::text`). */
export interface RecordIdentity {
  readonly table: string;
  readonly column: string;
  readonly id: string | number | bigint;
}

export interface Envelope {
  keyId: string;
  wrappedKey: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Unambiguous bytes for the identity (a JSON array, so no two identities share an encoding). */
export function associatedData(identity: RecordIdentity): Buffer {
  const id = String(identity.id);
  if (!identity.table || !identity.column || id === '') {
    throw new TypeError('a record identity needs a table, a column and a row id');
  }
  return Buffer.from(JSON.stringify([ENVELOPE_VERSION, identity.table, identity.column, id]), 'utf8');
}

function describe(identity: RecordIdentity): string {
  return `${identity.table}.${identity.column} of row ${String(identity.id)}`;
}

export function formatEnvelope(e: Envelope): string {
  const body = Buffer.concat([e.nonce, e.ciphertext, e.tag]).toString('base64');
  return `${ENVELOPE_VERSION}:${e.keyId}:${e.wrappedKey.toString('base64')}:${body}`;
}

/**
 * Strict: canonical standard base64 only, so one envelope has exactly one spelling. Node's decoder
 * skips characters it does not know; encoding the result again and comparing catches those, a wrong
 * padding and stray bits in one pass.
 */
function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** True when `text` looks like an envelope of this format (a cheap check, not a validation). */
export function isEnvelope(text: string): boolean {
  return text.startsWith(`${ENVELOPE_VERSION}:`);
}

export function parseEnvelope(text: string): Envelope {
  const malformed = (why: string) =>
    new KmsError('KUBEOP_ERR_KMS_MALFORMED', `not a kubeOP envelope: ${why}`);
  const parts = text.split(':');
  if (parts[0] !== ENVELOPE_VERSION) {
    throw /^kms\d+$/.test(parts[0] ?? '')
      ? malformed(`version ${parts[0]} is not supported by this kubeop (it reads ${ENVELOPE_VERSION})`)
      : malformed(`expected the prefix ${ENVELOPE_VERSION}:`);
  }
  if (parts.length !== 4) throw malformed(`expected 4 fields separated by ':', found ${parts.length}`);
  const [, keyId, wrappedText, bodyText] = parts as [string, string, string, string];
  if (!isValidKeyId(keyId)) throw malformed('the key id is invalid');
  const wrappedKey = decodeBase64(wrappedText);
  const body = decodeBase64(bodyText);
  if (!wrappedKey || wrappedKey.length === 0) throw malformed('the wrapped data key is not valid base64');
  if (!body) throw malformed('the ciphertext is not valid base64');
  if (body.length < NONCE_BYTES + TAG_BYTES) throw malformed('the ciphertext is too short');
  return {
    keyId,
    wrappedKey,
    nonce: body.subarray(0, NONCE_BYTES),
    ciphertext: body.subarray(NONCE_BYTES, body.length - TAG_BYTES),
    tag: body.subarray(body.length - TAG_BYTES),
  };
}

/** The key id of a stored envelope, without decoding the rest. */
export function envelopeKeyId(text: string): string {
  const parts = text.split(':', 3);
  if (parts[0] !== ENVELOPE_VERSION || parts.length < 3 || !isValidKeyId(parts[1]!)) {
    return parseEnvelope(text).keyId; // throws the precise reason
  }
  return parts[1]!;
}

/** Seals `plaintext` for the record `identity` under the provider's active key. */
export async function encrypt(
  provider: Pick<KmsProvider, 'wrap'>,
  plaintext: string | Uint8Array,
  identity: RecordIdentity,
): Promise<string> {
  const aad = associatedData(identity);
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const { keyId, wrapped } = await provider.wrap(dataKey);
    return formatEnvelope({ keyId, wrappedKey: wrapped, nonce, ciphertext, tag: cipher.getAuthTag() });
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Opens an envelope sealed for `identity`. Throws KmsError: `KUBEOP_ERR_KMS_MALFORMED` for text that
 * is not an envelope, `KUBEOP_ERR_KMS_UNKNOWN_KEY` when the provider lacks its key, and
 * `KUBEOP_ERR_KMS_DECRYPT` when anything was altered or the value belongs to another record.
 */
export async function decrypt(
  provider: Pick<KmsProvider, 'unwrap'>,
  text: string,
  identity: RecordIdentity,
): Promise<Buffer> {
  const aad = associatedData(identity);
  let envelope: Envelope;
  let dataKey: Buffer;
  try {
    envelope = parseEnvelope(text);
    dataKey = await provider.unwrap(envelope.keyId, envelope.wrappedKey);
  } catch (err) {
    if (!(err instanceof KmsError)) throw err;
    throw new KmsError(err.code, `cannot decrypt ${describe(identity)}: ${err.message}`, { cause: err });
  }
  try {
    if (dataKey.length !== DATA_KEY_BYTES) throw new Error('wrong data key length');
    const decipher = createDecipheriv('aes-256-gcm', dataKey, envelope.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(envelope.tag);
    return Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]);
  } catch {
    throw new KmsError(
      'KUBEOP_ERR_KMS_DECRYPT',
      `cannot decrypt ${describe(identity)}: authentication failed (the value was altered or belongs to another record)`,
    );
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The same envelope with its data key wrapped under `toKeyId` (the active key by default). The data
 * field is returned unchanged: rotation never decrypts or re-encrypts the data itself.
 */
export async function rewrap(
  provider: Pick<KmsProvider, 'wrap' | 'unwrap' | 'rewrap' | 'activeKeyId'>,
  text: string,
  toKeyId: string = provider.activeKeyId,
): Promise<string> {
  const envelope = parseEnvelope(text);
  let next;
  if (provider.rewrap) {
    next = await provider.rewrap(envelope.keyId, envelope.wrappedKey, toKeyId);
  } else {
    const dataKey = await provider.unwrap(envelope.keyId, envelope.wrappedKey);
    try {
      next = await provider.wrap(dataKey, toKeyId);
    } finally {
      dataKey.fill(0);
    }
  }
  const dataField = text.slice(text.lastIndexOf(':') + 1);
  return `${ENVELOPE_VERSION}:${next.keyId}:${next.wrapped.toString('base64')}:${dataField}`;
}
