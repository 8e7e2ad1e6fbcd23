import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/config.ts';
import { KmsError } from './errors.ts';
import { DEV_KEY_FILE, LocalKeyring, loadLocalKeyring, parseKeyList, type KmsConfig } from './local.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kubeop-kms-'));
  dirs.push(d);
  return d;
}

const b64 = () => randomBytes(32).toString('base64');
const config = (over: Partial<KmsConfig> = {}): KmsConfig => ({
  KUBEOP_KMS_DEV_MODE: false,
  KUBEOP_DATA_DIR: '/nonexistent/kubeop-data',
  ...over,
});
const noWarn = (m: string) => {
  throw new Error(`unexpected warning: ${m}`);
};

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toMatch(/\n/);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadLocalKeyring', () => {
  it('takes KUBEOP_KMS_MASTER_KEY as the single key, id master', () => {
    const ring = loadLocalKeyring(config({ KUBEOP_KMS_MASTER_KEY: b64() }), { warn: noWarn });
    expect(ring.activeKeyId).toBe('master');
    expect(ring.keyIds()).toEqual(['master']);
    expect(ring.development).toBe(false);
  });

  it('takes a keyring with the named active key, and the master key beside it', () => {
    const ring = loadLocalKeyring(
      config({
        KUBEOP_KMS_KEYS: `k2:${b64()}, k1:${b64()},`,
        KUBEOP_KMS_MASTER_KEY: b64(),
        KUBEOP_KMS_ACTIVE_KEY: 'k2',
      }),
      { warn: noWarn },
    );
    expect(ring.activeKeyId).toBe('k2');
    expect(ring.keyIds()).toEqual(['k2', 'k1', 'master']);
  });

  it('accepts URL-safe base64 without padding', () => {
    const key = randomBytes(32).toString('base64url');
    expect(loadLocalKeyring(config({ KUBEOP_KMS_KEYS: `a:${key}` }), { warn: noWarn }).activeKeyId).toBe('a');
  });

  it.each<[string, Partial<KmsConfig>, string, RegExp]>([
    [
      'no key at all',
      {},
      'KUBEOP_KMS_MASTER_KEY',
      /KUBEOP_KMS_MASTER_KEY is not set: .*openssl rand -base64 32/,
    ],
    [
      'a short key',
      { KUBEOP_KMS_MASTER_KEY: randomBytes(16).toString('base64') },
      'KUBEOP_KMS_MASTER_KEY',
      /KUBEOP_KMS_MASTER_KEY decodes to 16 bytes; a key must be exactly 32 bytes/,
    ],
    [
      'a long key',
      { KUBEOP_KMS_MASTER_KEY: randomBytes(48).toString('base64') },
      'KUBEOP_KMS_MASTER_KEY',
      /decodes to 48 bytes/,
    ],
    [
      'a key that is not base64',
      { KUBEOP_KMS_MASTER_KEY: 'correct horse battery staple, not a key!!' },
      'KUBEOP_KMS_MASTER_KEY',
      /KUBEOP_KMS_MASTER_KEY is not valid base64/,
    ],
    [
      'a placeholder key',
      { KUBEOP_KMS_MASTER_KEY: Buffer.alloc(32).toString('base64') },
      'KUBEOP_KMS_MASTER_KEY',
      /is a placeholder/,
    ],
    [
      'an entry without an id',
      { KUBEOP_KMS_KEYS: `k1:${b64()},${b64()}` },
      'KUBEOP_KMS_KEYS',
      /KUBEOP_KMS_KEYS entry 2 is malformed: expected <key id>:<base64 key>/,
    ],
    [
      'an entry with an invalid id',
      { KUBEOP_KMS_KEYS: `bad id:${b64()}` },
      'KUBEOP_KMS_KEYS',
      /KUBEOP_KMS_KEYS entry 1 has an invalid key id/,
    ],
    [
      'a short key in the ring',
      { KUBEOP_KMS_KEYS: `k1:${b64()},k2:${randomBytes(31).toString('base64')}` },
      'KUBEOP_KMS_KEYS',
      /KUBEOP_KMS_KEYS entry 2 decodes to 31 bytes/,
    ],
    [
      'a duplicate id',
      { KUBEOP_KMS_KEYS: `k1:${b64()},k1:${b64()}` },
      'KUBEOP_KMS_KEYS',
      /key id k1 appears twice/,
    ],
    [
      'a ring entry named master beside the master key',
      { KUBEOP_KMS_KEYS: `master:${b64()}`, KUBEOP_KMS_MASTER_KEY: b64() },
      'KUBEOP_KMS_KEYS',
      /which is the id of KUBEOP_KMS_MASTER_KEY/,
    ],
    [
      'several keys and no active one',
      { KUBEOP_KMS_KEYS: `k1:${b64()},k2:${b64()}` },
      'KUBEOP_KMS_ACTIVE_KEY',
      /KUBEOP_KMS_ACTIVE_KEY is not set: the keyring holds k1, k2/,
    ],
    [
      'an active key missing from the ring',
      { KUBEOP_KMS_KEYS: `k1:${b64()}`, KUBEOP_KMS_ACTIVE_KEY: 'k3' },
      'KUBEOP_KMS_ACTIVE_KEY',
      /KUBEOP_KMS_ACTIVE_KEY="k3" is not in the keyring \(it holds k1\)/,
    ],
    [
      'development mode beside real keys',
      { KUBEOP_KMS_DEV_MODE: true, KUBEOP_KMS_MASTER_KEY: b64() },
      'KUBEOP_KMS_DEV_MODE',
      /cannot be combined/,
    ],
  ])('stops on %s with one line naming the variable, never the key', (_what, over, variable, message) => {
    const err = configError(() => loadLocalKeyring(config(over), { warn: noWarn }));
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(message);
    for (const value of [over.KUBEOP_KMS_MASTER_KEY, ...(over.KUBEOP_KMS_KEYS ?? '').split(/[,:]/)]) {
      if (value && value.length > 8) expect(err.message).not.toContain(value.trim());
    }
  });

  it('never echoes a key pasted where the id belongs', () => {
    const key = randomBytes(32).toString('base64url'); // no padding, so it looks like an id
    const err = configError(() => parseKeyList(`${key}:${key}x`));
    expect(err.message).not.toContain(key);
  });
});

describe('development mode', () => {
  it('creates a key file once, reuses it, and warns loudly every time', async () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const cfg = config({ KUBEOP_KMS_DEV_MODE: true, KUBEOP_DATA_DIR: dir });
    const first = loadLocalKeyring(cfg, { warn: (m) => warnings.push(m) });
    const file = join(dir, DEV_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.activeKeyId).toBe('dev');
    expect(first.development).toBe(true);
    const second = loadLocalKeyring(cfg, { warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/KUBEOP_KMS_DEV_MODE=true: .*DEVELOPMENT key .*NOT protected/);
    expect(warnings[0]).not.toContain(readFileSync(file, 'utf8').trim());
    const wrapped = await first.wrap(randomBytes(32));
    await expect(second.unwrap('dev', wrapped.wrapped)).resolves.toHaveLength(32);
  });

  it('stops when the development key file is damaged', () => {
    const dir = tempDir();
    writeFileSync(join(dir, DEV_KEY_FILE), 'not a key\n');
    const err = configError(() =>
      loadLocalKeyring(config({ KUBEOP_KMS_DEV_MODE: true, KUBEOP_DATA_DIR: dir }), { warn: () => {} }),
    );
    expect(err.message).toMatch(/development key file .* is not valid base64/);
  });

  it('rejects an active key other than dev', () => {
    const err = configError(() =>
      loadLocalKeyring(
        config({ KUBEOP_KMS_DEV_MODE: true, KUBEOP_KMS_ACTIVE_KEY: 'k1', KUBEOP_DATA_DIR: tempDir() }),
        {
          warn: () => {},
        },
      ),
    );
    expect(err.variable).toBe('KUBEOP_KMS_ACTIVE_KEY');
  });
});

describe('LocalKeyring', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const ring = new LocalKeyring(
    [
      { id: 'a', key: a },
      { id: 'b', key: b },
    ],
    'a',
  );

  it('wraps under the active key by default and under a named key on request', async () => {
    const dataKey = randomBytes(32);
    const w1 = await ring.wrap(dataKey);
    const w2 = await ring.wrap(dataKey, 'b');
    expect([w1.keyId, w2.keyId]).toEqual(['a', 'b']);
    expect(w1.wrapped).toHaveLength(12 + 32 + 16);
    expect(await ring.unwrap('a', w1.wrapped)).toEqual(dataKey);
    expect(await ring.unwrap('b', w2.wrapped)).toEqual(dataKey);
  });

  it('fails to unwrap under the wrong key, a truncated value, or an unknown id', async () => {
    const { wrapped } = await ring.wrap(randomBytes(32));
    await expect(ring.unwrap('b', wrapped)).rejects.toMatchObject({ code: 'KUBEOP_ERR_KMS_DECRYPT' });
    await expect(ring.unwrap('a', wrapped.subarray(0, 20))).rejects.toMatchObject({
      code: 'KUBEOP_ERR_KMS_DECRYPT',
    });
    await expect(ring.unwrap('z', wrapped)).rejects.toBeInstanceOf(KmsError);
    await expect(ring.wrap(randomBytes(32), 'z')).rejects.toMatchObject({
      code: 'KUBEOP_ERR_KMS_UNKNOWN_KEY',
    });
  });

  it('keeps key material out of inspection and JSON', () => {
    const shown = inspect(ring, { depth: 5, showHidden: true }) + JSON.stringify(ring);
    for (const key of [a, b]) {
      expect(shown).not.toContain(key.toString('hex'));
      expect(shown).not.toContain(key.toString('base64'));
      expect(shown).not.toMatch(
        new RegExp(key.subarray(0, 4).toString('hex').replace(/(..)/g, '$1 ').trim()),
      );
    }
  });

  it('does not depend on the caller keeping its key buffers', async () => {
    const key = randomBytes(32);
    const own = new LocalKeyring([{ id: 'x', key }], 'x');
    const { wrapped } = await own.wrap(Buffer.alloc(32, 7));
    key.fill(0);
    expect(await own.unwrap('x', wrapped)).toEqual(Buffer.alloc(32, 7));
  });
});
