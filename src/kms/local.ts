import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Config } from '../platform/config.ts';
import { KmsError } from './errors.ts';
import { isValidKeyId, type KmsProvider, type WrappedKey } from './provider.ts';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** The id `KUBEOP_KMS_MASTER_KEY` goes by in the keyring and in stored envelopes. */
export const MASTER_KEY_ID = 'master';
/** The id of the development-mode key. */
export const DEV_KEY_ID = 'dev';
/** Where development mode keeps its key, under `KUBEOP_DATA_DIR`. */
export const DEV_KEY_FILE = 'kms-dev-key';

/**
 * The local provider: key-encryption keys held in process memory, taken from the environment. A data
 * key is wrapped with AES-256-GCM under the KEK (random nonce; the key id is the associated data, so a
 * wrapped key relabelled with another id fails). Wrapped form: nonce(12) ‖ encrypted key ‖ tag(16).
 *
 * Key material lives in a private field, so it never shows in `util.inspect`, JSON or error output.
 */
export class LocalKeyring implements KmsProvider {
  readonly name = 'local';
  readonly activeKeyId: string;
  /** True in development mode: the key sits in a file beside the data and protects nothing. */
  readonly development: boolean;
  readonly #keys: Map<string, Buffer>;

  constructor(
    keys: ReadonlyArray<{ id: string; key: Uint8Array }>,
    activeKeyId: string,
    opts: { development?: boolean } = {},
  ) {
    this.#keys = new Map();
    for (const { id, key } of keys) {
      if (!isValidKeyId(id)) throw new TypeError('invalid key id');
      if (key.length !== KEY_BYTES) throw new TypeError(`key ${id} must be ${KEY_BYTES} bytes`);
      if (this.#keys.has(id)) throw new TypeError(`key id ${id} appears twice`);
      this.#keys.set(id, Buffer.from(key));
    }
    if (!this.#keys.has(activeKeyId)) throw new TypeError(`active key ${activeKeyId} is not in the keyring`);
    this.activeKeyId = activeKeyId;
    this.development = opts.development ?? false;
  }

  keyIds(): readonly string[] {
    return [...this.#keys.keys()];
  }

  #key(keyId: string): Buffer {
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new KmsError(
        'KUBEOP_ERR_KMS_UNKNOWN_KEY',
        `key ${JSON.stringify(keyId)} is not in the local keyring (it holds ${this.keyIds().join(', ')}); add it to KUBEOP_KMS_KEYS`,
      );
    }
    return key;
  }

  async wrap(dataKey: Uint8Array, keyId: string = this.activeKeyId): Promise<WrappedKey> {
    const kek = this.#key(keyId);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad(keyId));
    const encrypted = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { keyId, wrapped: Buffer.concat([nonce, encrypted, cipher.getAuthTag()]) };
  }

  async unwrap(keyId: string, wrapped: Uint8Array): Promise<Buffer> {
    const kek = this.#key(keyId);
    const fail = () =>
      new KmsError(
        'KUBEOP_ERR_KMS_DECRYPT',
        `the data key does not unwrap under key ${keyId} (altered, or wrapped under another key)`,
      );
    if (wrapped.length <= NONCE_BYTES + TAG_BYTES) throw fail();
    const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, bytes.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(wrapAad(keyId));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw fail();
    }
  }
}

function wrapAad(keyId: string): Buffer {
  return Buffer.from(`kubeop/kms-local-wrap/v1:${keyId}`, 'utf8');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const GENERATE = 'generate one with `openssl rand -base64 32`';

/**
 * A 32-byte key from base64 (standard, or URL-safe without padding). `label` names where it came from
 * in the error; the value itself is never part of a message.
 */
export function parseKey(variable: string, label: string, text: string): Buffer {
  const trimmed = text.trim();
  let bytes: Buffer | undefined;
  if (BASE64.test(trimmed)) bytes = Buffer.from(trimmed, 'base64');
  else if (BASE64URL.test(trimmed)) bytes = Buffer.from(trimmed, 'base64url');
  if (!bytes || trimmed === '') {
    throw new ConfigError(
      variable,
      `${label} is not valid base64: expected ${KEY_BYTES} random bytes; ${GENERATE}`,
    );
  }
  if (bytes.length !== KEY_BYTES) {
    throw new ConfigError(
      variable,
      `${label} decodes to ${bytes.length} bytes; a key must be exactly ${KEY_BYTES} bytes; ${GENERATE}`,
    );
  }
  if (bytes.every((b) => b === bytes[0])) {
    throw new ConfigError(variable, `${label} is a placeholder (every byte is the same); ${GENERATE}`);
  }
  return bytes;
}

/**
 * `KUBEOP_KMS_KEYS`: comma-separated `<key id>:<base64 key>` entries, e.g. `k2:AAA…=,k1:BBB…=`.
 * Entries are named by position in errors, not by content, because a mistyped entry may be a key.
 */
export function parseKeyList(text: string): Array<{ id: string; key: Buffer }> {
  const variable = 'KUBEOP_KMS_KEYS';
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0)
    throw new ConfigError(variable, `${variable} is empty: expected <key id>:<base64 key>,…`);
  const out: Array<{ id: string; key: Buffer }> = [];
  entries.forEach((entry, i) => {
    const where = `${variable} entry ${i + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new ConfigError(variable, `${where} is malformed: expected <key id>:<base64 key>`);
    const id = entry.slice(0, colon).trim();
    if (!isValidKeyId(id)) {
      throw new ConfigError(
        variable,
        `${where} has an invalid key id: expected 1–128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit`,
      );
    }
    const key = parseKey(variable, where, entry.slice(colon + 1));
    if (out.some((k) => k.id === id)) throw new ConfigError(variable, `${where}: key id ${id} appears twice`);
    out.push({ id, key });
  });
  return out;
}

export type KmsConfig = Pick<
  Config,
  | 'KUBEOP_KMS_MASTER_KEY'
  | 'KUBEOP_KMS_KEYS'
  | 'KUBEOP_KMS_ACTIVE_KEY'
  | 'KUBEOP_KMS_DEV_MODE'
  | 'KUBEOP_DATA_DIR'
>;

/**
 * The keyring the configuration describes. Throws ConfigError (exit code 2 at startup) naming the
 * variable when a key is missing, malformed, not 32 bytes, or the active key is not in the ring.
 *
 * - `KUBEOP_KMS_MASTER_KEY`: one key, id `master`.
 * - `KUBEOP_KMS_KEYS`: a keyring; may be combined with the master key.
 * - `KUBEOP_KMS_ACTIVE_KEY`: the key new records use; required when the ring holds several.
 * - `KUBEOP_KMS_DEV_MODE=true` without any key: a random key kept in `<data dir>/kms-dev-key`, created
 *   on first use, with a warning on every start. Never chosen silently.
 */
export function loadLocalKeyring(config: KmsConfig, opts: { warn: (message: string) => void }): LocalKeyring {
  const keys: Array<{ id: string; key: Buffer }> = [];
  if (config.KUBEOP_KMS_KEYS !== undefined) keys.push(...parseKeyList(config.KUBEOP_KMS_KEYS));
  if (config.KUBEOP_KMS_MASTER_KEY !== undefined) {
    const key = parseKey('KUBEOP_KMS_MASTER_KEY', 'KUBEOP_KMS_MASTER_KEY', config.KUBEOP_KMS_MASTER_KEY);
    if (keys.some((k) => k.id === MASTER_KEY_ID)) {
      throw new ConfigError(
        'KUBEOP_KMS_KEYS',
        `KUBEOP_KMS_KEYS names a key '${MASTER_KEY_ID}', which is the id of KUBEOP_KMS_MASTER_KEY; set only one of them`,
      );
    }
    keys.push({ id: MASTER_KEY_ID, key });
  }

  if (config.KUBEOP_KMS_DEV_MODE) {
    if (keys.length > 0) {
      throw new ConfigError(
        'KUBEOP_KMS_DEV_MODE',
        'KUBEOP_KMS_DEV_MODE=true cannot be combined with KUBEOP_KMS_MASTER_KEY or KUBEOP_KMS_KEYS: unset one of them',
      );
    }
    const active = config.KUBEOP_KMS_ACTIVE_KEY;
    if (active !== undefined && active !== DEV_KEY_ID) {
      throw new ConfigError(
        'KUBEOP_KMS_ACTIVE_KEY',
        `KUBEOP_KMS_ACTIVE_KEY=${JSON.stringify(active)} does not exist in development mode (its key is '${DEV_KEY_ID}')`,
      );
    }
    const { key, path } = developmentKey(config.KUBEOP_DATA_DIR);
    opts.warn(
      `KUBEOP_KMS_DEV_MODE=true: stored secrets are encrypted with a DEVELOPMENT key kept unprotected in ${path}; they are NOT protected. Never use development mode in production: set KUBEOP_KMS_MASTER_KEY instead.`,
    );
    return new LocalKeyring([{ id: DEV_KEY_ID, key }], DEV_KEY_ID, { development: true });
  }

  if (keys.length === 0) {
    throw new ConfigError(
      'KUBEOP_KMS_MASTER_KEY',
      `KUBEOP_KMS_MASTER_KEY is not set: stored secrets need a key-encryption key; ${GENERATE} (or set KUBEOP_KMS_KEYS for a keyring, or KUBEOP_KMS_DEV_MODE=true for a development-only key)`,
    );
  }
  const ids = keys.map((k) => k.id);
  let active = config.KUBEOP_KMS_ACTIVE_KEY;
  if (active === undefined) {
    if (keys.length > 1) {
      throw new ConfigError(
        'KUBEOP_KMS_ACTIVE_KEY',
        `KUBEOP_KMS_ACTIVE_KEY is not set: the keyring holds ${ids.join(', ')}; name the one new secrets use`,
      );
    }
    active = ids[0]!;
  } else if (!ids.includes(active)) {
    throw new ConfigError(
      'KUBEOP_KMS_ACTIVE_KEY',
      `KUBEOP_KMS_ACTIVE_KEY=${JSON.stringify(active)} is not in the keyring (it holds ${ids.join(', ')})`,
    );
  }
  const ring = new LocalKeyring(keys, active);
  for (const k of keys) k.key.fill(0);
  return ring;
}

/**
 * Reads the development key, creating it on first use. `wx` makes creation atomic, so two processes
 * starting together on one data directory end up with the same key.
 */
function developmentKey(dataDir: string): { key: Buffer; path: string } {
  const path = join(dataDir, DEV_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(path, randomBytes(KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = parseKey('KUBEOP_KMS_DEV_MODE', `the development key file ${path}`, readFileSync(path, 'utf8'));
  return { key, path };
}
