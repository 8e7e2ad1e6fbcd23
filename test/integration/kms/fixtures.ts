import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../../../src/db/database.ts';
import type { Migration } from '../../../src/db/migrate.ts';
import { encryptedColumn } from '../../../src/kms/columns.ts';
import { decrypt, encrypt } from '../../../src/kms/envelope.ts';
import { LocalKeyring } from '../../../src/kms/local.ts';
import type { KmsProvider } from '../../../src/kms/provider.ts';

/**
 * The KMS suites' own tables, independent of the manager's: one with uuid ids (as the manager's
 * tables have) and one with bigint ids, so rotation is shown to order and resume on both. The CHECK
 * is what a real secret column should carry: nothing but an envelope can be stored.
 */
export const kmsTestMigrations: Migration[] = [
  {
    version: 1,
    name: 'kms test tables',
    sql: `
CREATE TABLE kms_test_secrets (
  id     uuid PRIMARY KEY,
  name   text NOT NULL,
  secret text CHECK (secret LIKE 'kms1:%')
);
CREATE TABLE kms_test_tokens (
  id    bigint PRIMARY KEY,
  token text NOT NULL
);`,
  },
];

export const secretsColumn = encryptedColumn('kms_test_secrets', 'secret');
export const tokensColumn = encryptedColumn('kms_test_tokens', 'token');
export const testColumns = [secretsColumn, tokensColumn];

/** Fixed key material per id for the whole run, so rings built separately agree. */
const material = new Map<string, Buffer>();
export function keyFor(id: string): Buffer {
  if (!material.has(id)) material.set(id, randomBytes(32));
  return material.get(id)!;
}
export function keyring(active: string, ...others: string[]): LocalKeyring {
  return new LocalKeyring(
    [active, ...others].map((id) => ({ id, key: keyFor(id) })),
    active,
  );
}

export interface SeededRow {
  id: string;
  plaintext: string;
}

/** `n` rows in kms_test_secrets, each sealed under the provider's active key. */
export async function seedSecrets(
  db: Database,
  kms: KmsProvider,
  n: number,
  prefix = 's',
): Promise<SeededRow[]> {
  const rows: SeededRow[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const plaintext = `${prefix}-kubeconfig-${i}-${randomBytes(12).toString('hex')}`;
    const secret = await encrypt(kms, plaintext, {
      table: secretsColumn.table,
      column: secretsColumn.column,
      id,
    });
    await db.query('INSERT INTO kms_test_secrets (id, name, secret) VALUES ($1, $2, $3)', [
      id,
      `cluster-${i}`,
      secret,
    ]);
    rows.push({ id, plaintext });
  }
  return rows;
}

/** `n` rows in kms_test_tokens with ids from `first`. */
export async function seedTokens(db: Database, kms: KmsProvider, n: number, first = 1): Promise<SeededRow[]> {
  const rows: SeededRow[] = [];
  for (let i = first; i < first + n; i++) {
    const plaintext = `glpat-${randomBytes(16).toString('hex')}`;
    const token = await encrypt(kms, plaintext, {
      table: tokensColumn.table,
      column: tokensColumn.column,
      id: i,
    });
    await db.query('INSERT INTO kms_test_tokens (id, token) VALUES ($1, $2)', [i, token]);
    rows.push({ id: String(i), plaintext });
  }
  return rows;
}

export async function readSecret(db: Database, kms: KmsProvider, id: string): Promise<string> {
  const { rows } = await db.query<{ secret: string }>('SELECT secret FROM kms_test_secrets WHERE id = $1', [
    id,
  ]);
  return (
    await decrypt(kms, rows[0]!.secret, { table: 'kms_test_secrets', column: 'secret', id })
  ).toString();
}

export async function readToken(db: Database, kms: KmsProvider, id: string): Promise<string> {
  const { rows } = await db.query<{ token: string }>('SELECT token FROM kms_test_tokens WHERE id = $1', [id]);
  return (await decrypt(kms, rows[0]!.token, { table: 'kms_test_tokens', column: 'token', id })).toString();
}

/** key id → rows, over both test columns. */
export async function keyCounts(db: Database): Promise<Record<string, number>> {
  const { rows } = await db.query<{ k: string; n: unknown }>(`
    SELECT split_part(v, ':', 2) AS k, count(*) AS n FROM (
      SELECT secret AS v FROM kms_test_secrets WHERE secret IS NOT NULL
      UNION ALL SELECT token FROM kms_test_tokens) s
    GROUP BY 1 ORDER BY 1`);
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
}

/** The data field (nonce ‖ ciphertext ‖ tag) of every envelope, by row id. */
export async function dataFields(db: Database): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; v: string }>(`
    SELECT id::text AS id, secret AS v FROM kms_test_secrets WHERE secret IS NOT NULL
    UNION ALL SELECT id::text, token FROM kms_test_tokens`);
  return new Map(rows.map((r) => [r.id, r.v.split(':')[3]!]));
}
