import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decrypt,
  encrypt,
  envelopeKeyId,
  formatEnvelope,
  parseEnvelope,
  rewrap,
  type RecordIdentity,
} from './envelope.ts';
import { KmsError } from './errors.ts';
import { LocalKeyring } from './local.ts';
import type { KmsProvider, WrappedKey } from './provider.ts';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring = (active = 'k1') =>
  new LocalKeyring(
    [
      { id: 'k1', key: k1 },
      { id: 'k2', key: k2 },
    ],
    active,
  );
const row: RecordIdentity = {
  table: 'clusters',
  column: 'kubeconfig',
  id: '7d3c0f5e-1f7a-4c53-9c1b-2b0f4a1c9e11',
};
const secret = 'apiVersion: v1\nkind: Config\nusers:\n- user: {token: s3cr3t-t0ken}\n';

async function failure(p: Promise<unknown>): Promise<KmsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KmsError);
  return err as KmsError;
}

/** Flips one bit of a byte range of the envelope's decoded field `field` (2: wrapped key, 3: body). */
function flip(text: string, field: 2 | 3, at: (len: number) => number): string {
  const parts = text.split(':');
  const bytes = Buffer.from(parts[field]!, 'base64');
  bytes[at(bytes.length)]! ^= 0x01;
  parts[field] = bytes.toString('base64');
  return parts.join(':');
}

describe('envelope', () => {
  it('round-trips text and bytes for the same record', async () => {
    const kms = ring();
    expect((await decrypt(kms, await encrypt(kms, secret, row), row)).toString()).toBe(secret);
    const bytes = randomBytes(4096);
    expect(await decrypt(kms, await encrypt(kms, bytes, row), row)).toEqual(bytes);
    expect((await decrypt(kms, await encrypt(kms, '', row), row)).length).toBe(0);
  });

  it('never stores the plaintext, and names the active key in clear', async () => {
    const text = await encrypt(ring('k2'), secret, row);
    expect(text).toMatch(/^kms1:k2:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(text).not.toContain('s3cr3t');
    expect(Buffer.from(text.split(':')[3]!, 'base64').toString('latin1')).not.toContain('s3cr3t');
    expect(envelopeKeyId(text)).toBe('k2');
  });

  it('uses a fresh data key and nonce for every record', async () => {
    const kms = ring();
    const [a, b] = [
      parseEnvelope(await encrypt(kms, secret, row)),
      parseEnvelope(await encrypt(kms, secret, row)),
    ];
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.nonce).toHaveLength(12);
    expect(a.tag).toHaveLength(16);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it.each([
    ['the first ciphertext byte', 3 as const, () => 12],
    ['the last ciphertext byte', 3 as const, (len: number) => len - 17],
    ['the nonce', 3 as const, () => 0],
    ['the tag', 3 as const, (len: number) => len - 1],
    ['the wrapped data key', 2 as const, (len: number) => len >> 1],
  ])('detects a change to %s', async (_what, field, at) => {
    const kms = ring();
    const text = await encrypt(kms, secret, row);
    const err = await failure(decrypt(kms, flip(text, field, at), row));
    expect(err.code).toBe('KUBEOP_ERR_KMS_DECRYPT');
    expect(err.message).toContain('clusters.kubeconfig of row 7d3c0f5e');
    expect(err.message).not.toContain('s3cr3t');
  });

  it.each([
    ['another row', { ...row, id: '00000000-0000-4000-8000-000000000000' }],
    ['another column', { ...row, column: 'token' }],
    ['another table', { ...row, table: 'registries' }],
  ])('refuses a value moved to %s (the record identity is authenticated)', async (_what, other) => {
    const kms = ring();
    const err = await failure(decrypt(kms, await encrypt(kms, secret, row), other));
    expect(err.code).toBe('KUBEOP_ERR_KMS_DECRYPT');
    expect(err.message).toMatch(/belongs to another record/);
  });

  it('treats numeric and text ids of one row alike, and distinguishes rows', async () => {
    const kms = ring();
    const text = await encrypt(kms, 'x', { table: 't', column: 'c', id: 42 });
    expect((await decrypt(kms, text, { table: 't', column: 'c', id: '42' })).toString()).toBe('x');
    expect((await decrypt(kms, text, { table: 't', column: 'c', id: 42n })).toString()).toBe('x');
    await failure(decrypt(kms, text, { table: 't', column: 'c', id: 43 }));
  });

  it('detects a key id relabelled to another key of the ring', async () => {
    const kms = ring('k1');
    const text = (await encrypt(kms, secret, row)).replace(/^kms1:k1:/, 'kms1:k2:');
    expect((await failure(decrypt(kms, text, row))).code).toBe('KUBEOP_ERR_KMS_DECRYPT');
  });

  it('reports a key id the provider does not hold', async () => {
    const kms = ring();
    const text = (await encrypt(kms, secret, row)).replace(/^kms1:k1:/, 'kms1:k9:');
    const err = await failure(decrypt(kms, text, row));
    expect(err.code).toBe('KUBEOP_ERR_KMS_UNKNOWN_KEY');
    expect(err.message).toMatch(
      /cannot decrypt clusters.kubeconfig of row .*: key "k9" is not in the local keyring/,
    );
  });

  it.each([
    ['plaintext', 'hunter2', /expected the prefix kms1:/],
    ['a future version', 'kms2:k1:AAAA:AAAA', /version kms2 is not supported/],
    ['a missing field', 'kms1:k1:AAAA', /expected 4 fields/],
    ['an invalid key id', 'kms1:k 1:AAAA:AAAA', /key id is invalid/],
    ['bad base64', 'kms1:k1:AA!A:AAAA', /wrapped data key is not valid base64/],
    ['non-canonical base64', 'kms1:k1:AAAA:' + 'A'.repeat(40) + 'AAB=', /ciphertext is not valid base64/],
    ['a short body', 'kms1:k1:AAAA:AAAA', /ciphertext is too short/],
  ])('rejects %s as malformed without echoing it', async (_what, text, message) => {
    const err = await failure(decrypt(ring(), text, row));
    expect(err.code).toBe('KUBEOP_ERR_KMS_MALFORMED');
    expect(err.message).toMatch(message);
    if (text === 'hunter2') expect(err.message).not.toContain('hunter2');
  });

  it('formats what it parses', async () => {
    const text = await encrypt(ring(), secret, row);
    expect(formatEnvelope(parseEnvelope(text))).toBe(text);
  });
});

describe('rewrap', () => {
  it('moves the data key to another key and leaves the data field byte for byte', async () => {
    const before = await encrypt(ring('k1'), secret, row);
    const after = await rewrap(ring('k2'), before);
    expect(envelopeKeyId(after)).toBe('k2');
    expect(after.split(':')[3]).toBe(before.split(':')[3]);
    expect((await decrypt(ring('k2'), after, row)).toString()).toBe(secret);
    // Still the record's own value: moving it to another row still fails.
    await failure(decrypt(ring('k2'), after, { ...row, id: 'other' }));
  });

  it('uses the provider rewrap when it has one (the data key never leaves an external KMS)', async () => {
    const inner = ring('k2');
    const calls: string[] = [];
    const external: KmsProvider = {
      name: 'fake-external',
      activeKeyId: 'k2',
      keyIds: () => inner.keyIds(),
      wrap: (k, id) => inner.wrap(k, id),
      unwrap: () => Promise.reject(new Error('unwrap must not be called')),
      async rewrap(keyId, wrapped, toKeyId): Promise<WrappedKey> {
        calls.push(`${keyId}->${toKeyId}`);
        const key = await inner.unwrap(keyId, wrapped);
        return inner.wrap(key, toKeyId);
      },
    };
    const after = await rewrap(external, await encrypt(ring('k1'), secret, row));
    expect(calls).toEqual(['k1->k2']);
    expect((await decrypt(inner, after, row)).toString()).toBe(secret);
  });

  it('fails without a result when the old key is unknown', async () => {
    const only2 = new LocalKeyring([{ id: 'k2', key: k2 }], 'k2');
    const err = await failure(rewrap(only2, await encrypt(ring('k1'), secret, row)));
    expect(err.code).toBe('KUBEOP_ERR_KMS_UNKNOWN_KEY');
  });
});
