import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { secretSealer } from '../../../src/kms/columns.ts';
import { rotate } from '../../../src/kms/rotate.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import {
  keyring,
  kmsTestMigrations,
  readSecret,
  secretsColumn,
  seedSecrets,
  seedTokens,
  testColumns,
  tokensColumn,
} from './fixtures.ts';
import { findPlaintext } from './plaintext-scan.ts';

/** Rewrites one field of the stored envelope of row `id` (fields: 1 key id, 2 wrapped key, 3 data). */
async function tamper(db: Database, id: string, change: (fields: string[]) => void): Promise<void> {
  const { rows } = await db.query<{ secret: string }>('SELECT secret FROM kms_test_secrets WHERE id = $1', [
    id,
  ]);
  const fields = rows[0]!.secret.split(':');
  change(fields);
  await db.query('UPDATE kms_test_secrets SET secret = $1 WHERE id = $2', [fields.join(':'), id]);
}

function flipByte(field: string, at: (len: number) => number): string {
  const bytes = Buffer.from(field, 'base64');
  bytes[at(bytes.length)]! ^= 0x80;
  return bytes.toString('base64');
}

describe.each(drivers)('stored secrets on $name', ({ open }) => {
  let t: TestDatabase;
  let db: Database;
  const kms = keyring('k2', 'k1');

  beforeEach(async () => {
    t = await open();
    db = t.db;
    await migrate(db, kmsTestMigrations);
  });
  afterEach(async () => {
    await t.drop();
  });

  it('refuses a ciphertext copied to another row', async () => {
    const [a, b] = await seedSecrets(db, kms, 2);
    await db.query(
      'UPDATE kms_test_secrets SET secret = (SELECT secret FROM kms_test_secrets WHERE id = $1) WHERE id = $2',
      [a!.id, b!.id],
    );
    await expect(readSecret(db, kms, b!.id)).rejects.toMatchObject({
      code: 'KUBEOP_ERR_KMS_DECRYPT',
      message: expect.stringContaining(`kms_test_secrets.secret of row ${b!.id}`),
    });
    expect(await readSecret(db, kms, a!.id)).toBe(a!.plaintext);
  });

  it.each<[string, (f: string[]) => void, string]>([
    ['the ciphertext', (f) => (f[3] = flipByte(f[3]!, () => 14)), 'KUBEOP_ERR_KMS_DECRYPT'],
    ['the nonce', (f) => (f[3] = flipByte(f[3]!, () => 3)), 'KUBEOP_ERR_KMS_DECRYPT'],
    ['the tag', (f) => (f[3] = flipByte(f[3]!, (n) => n - 2)), 'KUBEOP_ERR_KMS_DECRYPT'],
    ['the wrapped data key', (f) => (f[2] = flipByte(f[2]!, (n) => n - 20)), 'KUBEOP_ERR_KMS_DECRYPT'],
    ['the key id (to another key)', (f) => (f[1] = 'k1'), 'KUBEOP_ERR_KMS_DECRYPT'],
    ['the key id (to an unknown key)', (f) => (f[1] = 'k9'), 'KUBEOP_ERR_KMS_UNKNOWN_KEY'],
  ])('detects tampering with %s in the database', async (_what, change, code) => {
    const [row] = await seedSecrets(db, kms, 1);
    await tamper(db, row!.id, change);
    await expect(readSecret(db, kms, row!.id)).rejects.toMatchObject({ code });
  });

  it('leaves no secret readable in any table after a full flow, and the scan finds one that is', async () => {
    const sealer = secretSealer(keyring('k1'));
    // Store through the repository-facing API, rotate, then overwrite some values as a writer would.
    const secrets = await seedSecrets(db, keyring('k1'), 20);
    const tokens = await seedTokens(db, keyring('k1'), 10);
    await rotate(db, kms, testColumns, { batchSize: 7 });
    const replaced =
      'apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user: {token: "replaced-token-0042"}';
    await db.query('UPDATE kms_test_secrets SET secret = $1 WHERE id = $2', [
      await secretSealer(kms).seal(secretsColumn, secrets[0]!.id, replaced),
      secrets[0]!.id,
    ]);
    await db.query('UPDATE kms_test_tokens SET token = $1 WHERE id = 1', [
      await sealer.seal(tokensColumn, 1, 'short'),
    ]);
    const all = [
      ...secrets.map((s) => s.plaintext),
      ...tokens.map((s) => s.plaintext),
      replaced,
      'short-lived',
    ];

    expect(await findPlaintext(db, all)).toEqual([]);

    // The scan is real: a secret that slips into an ordinary column, raw or base64, is found.
    await db.query('UPDATE kms_test_secrets SET name = $1 WHERE id = $2', [
      `note ${Buffer.from(`x${tokens[3]!.plaintext}`).toString('base64')}`,
      secrets[1]!.id,
    ]);
    await db.query("INSERT INTO kms_test_tokens (id, token) VALUES (999, 'short-lived')");
    expect(await findPlaintext(db, all)).toEqual([
      { table: 'kms_test_secrets', column: 'name', secret: 20 + 3, encoding: 'base64' },
      { table: 'kms_test_tokens', column: 'token', secret: all.length - 1, encoding: 'raw' },
    ]);
  });

  it('a column with the envelope CHECK refuses plaintext outright', async () => {
    await expect(
      db.query("INSERT INTO kms_test_secrets (id, name, secret) VALUES (gen_random_uuid(), 'x', 'plain')"),
    ).rejects.toThrow(/check constraint/);
  });
});
