import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../../src/db/database.ts';
import { migrate } from '../../../src/db/migrate.ts';
import { encrypt } from '../../../src/kms/envelope.ts';
import type { KmsProvider } from '../../../src/kms/provider.ts';
import { checkRetirement, keyUsage, rotate, type BatchProgress } from '../../../src/kms/rotate.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';
import {
  dataFields,
  keyCounts,
  keyring,
  kmsTestMigrations,
  readSecret,
  readToken,
  secretsColumn,
  seedSecrets,
  seedTokens,
  testColumns,
  tokensColumn,
  type SeededRow,
} from './fixtures.ts';

/** A database whose `crashAt`-th transaction fails after `afterUpdates` statements (then rolls back). */
function crashingDatabase(db: Database, crashAt: number, afterUpdates: number): Database {
  let transactions = 0;
  return {
    ...db,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    transaction: (fn) =>
      db.transaction((tx) => {
        transactions++;
        if (transactions !== crashAt) return fn(tx);
        let statements = 0;
        const failing: Queryable = {
          exec: (sql) => tx.exec(sql),
          async query(sql, params) {
            if (statements++ === afterUpdates) throw new Error('simulated crash in the middle of a batch');
            return tx.query(sql, params);
          },
        };
        return fn(failing);
      }),
  } as Database;
}

describe.each(drivers)('key rotation on $name', ({ open }) => {
  let t: TestDatabase;
  let db: Database;
  let secrets: SeededRow[];
  let tokens: SeededRow[];
  const old = keyring('k1');
  const both = keyring('k2', 'k1');

  beforeEach(async () => {
    t = await open();
    db = t.db;
    await migrate(db, kmsTestMigrations);
    secrets = await seedSecrets(db, old, 230);
    tokens = await seedTokens(db, old, 40);
  });
  afterEach(async () => {
    await t.drop();
  });

  async function expectAllReadable(kms: KmsProvider): Promise<void> {
    for (const s of secrets) expect(await readSecret(db, kms, s.id)).toBe(s.plaintext);
    for (const s of tokens) expect(await readToken(db, kms, s.id)).toBe(s.plaintext);
  }

  it('re-wraps every data key in batches with progress, leaving the data and current rows untouched', async () => {
    const current = await seedSecrets(db, both, 20, 'already-k2');
    const untouched = await db.query<{ id: string; secret: string }>(
      "SELECT id::text AS id, secret FROM kms_test_secrets WHERE secret LIKE 'kms1:k2:%'",
    );
    const before = await dataFields(db);
    const progress: BatchProgress[] = [];

    const report = await rotate(db, both, testColumns, { batchSize: 50, onBatch: (p) => progress.push(p) });

    expect(report.complete).toBe(true);
    expect(report.columns.map((c) => [c.column, c.rewrapped, c.remaining])).toEqual([
      ['kms_test_secrets.secret', 230, 0],
      ['kms_test_tokens.token', 40, 0],
    ]);
    expect(progress.map((p) => `${p.column} ${p.batch} ${p.rewrapped}/${p.pending}`)).toEqual([
      'kms_test_secrets.secret 1 50/230',
      'kms_test_secrets.secret 2 100/230',
      'kms_test_secrets.secret 3 150/230',
      'kms_test_secrets.secret 4 200/230',
      'kms_test_secrets.secret 5 230/230',
      'kms_test_tokens.token 1 40/40',
    ]);
    expect(await keyCounts(db)).toEqual({ k2: 290 });
    expect(await dataFields(db)).toEqual(before);
    for (const row of untouched.rows) {
      const { rows } = await db.query<{ secret: string }>(
        'SELECT secret FROM kms_test_secrets WHERE id = $1',
        [row.id],
      );
      expect(rows[0]!.secret).toBe(row.secret);
    }
    // The old key is no longer needed by anything.
    await expectAllReadable(keyring('k2'));
    for (const s of current) expect(await readSecret(db, keyring('k2'), s.id)).toBe(s.plaintext);

    const again = await rotate(db, both, testColumns, { batchSize: 50 });
    expect(again.columns.map((c) => c.rewrapped)).toEqual([0, 0]);
  });

  it('keeps every read working while it runs', async () => {
    let rotating = true;
    const seen = new Set<string>();
    let reads = 0;
    const reader = (async () => {
      // Readers run with both keys, as every manager replica does during a rotation.
      while (rotating) {
        const s = secrets[reads % secrets.length]!;
        const { rows } = await db.query<{ secret: string }>(
          'SELECT secret FROM kms_test_secrets WHERE id = $1',
          [s.id],
        );
        seen.add(rows[0]!.secret.split(':')[1]!);
        expect(await readSecret(db, both, s.id)).toBe(s.plaintext);
        reads++;
      }
    })();
    const rotation = rotate(db, both, testColumns, { batchSize: 10 }).finally(() => {
      rotating = false;
    });
    const [report] = await Promise.all([rotation, reader]);
    expect(report.complete).toBe(true);
    // The reads really overlapped the rotation: they saw rows under both keys.
    expect(seen).toEqual(new Set(['k1', 'k2']));
    expect(reads).toBeGreaterThan(20);
  });

  it('never overwrites a value written concurrently, and finishes rows a writer put back under the old key', async () => {
    const { rows: first } = await db.query<{ id: string }>(
      'SELECT id::text AS id FROM kms_test_secrets ORDER BY id LIMIT 3',
    );
    const [a, b, c] = first.map((r) => secrets.find((s) => s.id === r.id)!) as [
      SeededRow,
      SeededRow,
      SeededRow,
    ];
    const [newA, newB] = ['rewritten-a-by-a-new-replica', 'rewritten-b-by-an-old-replica'];
    const identity = (id: string) => ({ table: 'kms_test_secrets', column: 'secret', id });
    let wrote = false;
    // Between reading the first batch and committing it, writers change three of its rows: one under
    // the new key, one under the old key (a replica not yet restarted with the new keyring), and one
    // deleted. The first unwrap of the batch is the moment in between.
    const racing: KmsProvider = {
      name: both.name,
      activeKeyId: both.activeKeyId,
      keyIds: () => both.keyIds(),
      wrap: (k, id) => both.wrap(k, id),
      async unwrap(keyId, wrapped) {
        if (!wrote) {
          wrote = true;
          await db.query('UPDATE kms_test_secrets SET secret = $1 WHERE id = $2', [
            await encrypt(both, newA, identity(a.id)),
            a.id,
          ]);
          await db.query('UPDATE kms_test_secrets SET secret = $1 WHERE id = $2', [
            await encrypt(old, newB, identity(b.id)),
            b.id,
          ]);
          await db.query('DELETE FROM kms_test_secrets WHERE id = $1', [c.id]);
        }
        return both.unwrap(keyId, wrapped);
      },
    };

    const report = await rotate(db, racing, [secretsColumn], { batchSize: 50 });

    expect(report.complete).toBe(true);
    expect(report.columns[0]!.changedConcurrently).toBe(3);
    expect(await readSecret(db, both, a.id)).toBe(newA);
    expect(await readSecret(db, keyring('k2'), b.id)).toBe(newB); // picked up by a second pass
    const { rows } = await db.query('SELECT 1 FROM kms_test_secrets WHERE id = $1', [c.id]);
    expect(rows).toHaveLength(0); // not resurrected
    expect(await keyCounts(db)).toEqual({ k1: 40, k2: 229 });
  });

  it('resumes correctly after being stopped between batches', async () => {
    const stop = new AbortController();
    const first = rotate(db, both, testColumns, {
      batchSize: 40,
      onBatch: (p) => {
        if (p.batch === 3) stop.abort(new Error('simulated crash after 3 batches'));
      },
      signal: stop.signal,
    });
    await expect(first).rejects.toThrow('simulated crash after 3 batches');
    expect(await keyCounts(db)).toEqual({ k1: 270 - 120, k2: 120 });
    await expectAllReadable(both);

    const resumed = await rotate(db, both, testColumns, { batchSize: 40 });
    expect(resumed.complete).toBe(true);
    // Only the rows still to do were touched.
    expect(resumed.columns.map((c) => c.rewrapped)).toEqual([230 - 120, 40]);
    expect(await keyCounts(db)).toEqual({ k2: 270 });
    await expectAllReadable(keyring('k2'));
  });

  it('rolls back a batch interrupted inside its transaction, and the resumed run finishes', async () => {
    // The 3rd batch fails after 7 of its 25 updates.
    const crashing = crashingDatabase(db, 3, 7);
    await expect(rotate(crashing, both, testColumns, { batchSize: 25 })).rejects.toThrow('simulated crash');
    expect(await keyCounts(db)).toEqual({ k1: 270 - 50, k2: 50 });
    await expectAllReadable(both);

    const resumed = await rotate(db, both, testColumns, { batchSize: 25 });
    expect(resumed.complete).toBe(true);
    expect(resumed.columns.map((c) => c.rewrapped)).toEqual([230 - 50, 40]);
    await expectAllReadable(keyring('k2'));
  });

  it('skips and reports a row whose key is missing, rotates the rest, and ends incomplete', async () => {
    const [lost] = await seedSecrets(db, keyring('k0'), 1, 'lost');
    const report = await rotate(db, both, testColumns, { batchSize: 64 });
    const secretsReport = report.columns[0]!;
    expect(report.complete).toBe(false);
    expect(secretsReport.failed).toBe(1);
    expect(secretsReport.remaining).toBe(1);
    expect(secretsReport.errors).toEqual([
      expect.stringMatching(`row ${lost!.id}: key "k0" is not in the local keyring`),
    ]);
    expect(await keyCounts(db)).toEqual({ k0: 1, k2: 270 });
  });

  it('says a key can be retired only when no row uses it and it is not active', async () => {
    const before = await checkRetirement(db, both, testColumns, 'k1');
    expect(before).toEqual({
      keyId: 'k1',
      active: false,
      rows: 270,
      byColumn: [
        { column: 'kms_test_secrets.secret', rows: 230 },
        { column: 'kms_test_tokens.token', rows: 40 },
      ],
      retirable: false,
    });
    await rotate(db, both, testColumns);
    expect(await checkRetirement(db, both, testColumns, 'k1')).toMatchObject({ rows: 0, retirable: true });
    expect(await checkRetirement(db, both, testColumns, 'k2')).toMatchObject({
      active: true,
      retirable: false,
    });
    expect(await keyUsage(db, [secretsColumn, tokensColumn])).toEqual([
      { column: 'kms_test_secrets.secret', keyId: 'k2', rows: 230 },
      { column: 'kms_test_tokens.token', keyId: 'k2', rows: 40 },
    ]);
  });

  it('counts values that are not envelopes as unencrypted in key usage', async () => {
    await db.query("INSERT INTO kms_test_tokens (id, token) VALUES (9999, 'plaintext-token')");
    const usage = await keyUsage(db, [tokensColumn]);
    expect(usage).toEqual([
      { column: 'kms_test_tokens.token', keyId: 'k1', rows: 40 },
      { column: 'kms_test_tokens.token', keyId: null, rows: 1 },
    ]);
    const report = await rotate(db, both, [tokensColumn]);
    expect(report.columns[0]).toMatchObject({ rewrapped: 40, remaining: 0 });
  });
});
