import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/database.ts';
import { migrate, MigrationError, type Migration } from '../../../src/db/migrate.ts';
import { migrations } from '../../../src/db/migrations/index.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';

const m1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE t1 (id int PRIMARY KEY);' };
const m2: Migration = {
  version: 2,
  name: 'two',
  sql: 'CREATE TABLE t2 (id int PRIMARY KEY); INSERT INTO t2 VALUES (1), (2);',
};

async function tables(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(
    "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
  );
  return rows.map((r) => r.t);
}

describe.each(drivers)('migrations on $name', ({ open }) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await open();
  });
  afterEach(async () => {
    await t.drop();
  });

  it('applies pending migrations in order and records them', async () => {
    const report = await migrate(t.db, [m2, m1]);
    expect(report).toEqual({ applied: [1, 2], current: 2 });
    expect(await tables(t.db)).toEqual(['kubeop_schema_migrations', 't1', 't2']);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM t2');
    expect(rows[0]?.n).toBe(2);
  });

  it('applies nothing the second time', async () => {
    await migrate(t.db, [m1, m2]);
    expect(await migrate(t.db, [m1, m2])).toEqual({ applied: [], current: 2 });
  });

  it('rolls back a failing migration completely and keeps the earlier ones', async () => {
    const bad: Migration = {
      version: 2,
      name: 'bad',
      sql: 'CREATE TABLE t2 (id int); SELECT * FROM missing;',
    };
    await expect(migrate(t.db, [m1, bad])).rejects.toMatchObject({
      code: 'KUBEOP_ERR_MIGRATION_FAILED',
      message: expect.stringContaining('migration 2 (bad) failed'),
    });
    expect(await tables(t.db)).toEqual(['kubeop_schema_migrations', 't1']);
    expect(await migrate(t.db, [m1, m2])).toEqual({ applied: [2], current: 2 });
  });

  it('refuses to run when an applied migration was edited', async () => {
    await migrate(t.db, [m1]);
    const edited = { ...m1, sql: 'CREATE TABLE t1 (id bigint PRIMARY KEY);' };
    const err = await migrate(t.db, [edited]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).code).toBe('KUBEOP_ERR_MIGRATION_MODIFIED');
  });

  it('refuses a database newer than the binary', async () => {
    await migrate(t.db, [m1, m2]);
    await expect(migrate(t.db, [m1])).rejects.toMatchObject({ code: 'KUBEOP_ERR_SCHEMA_TOO_NEW' });
  });

  it('applies the shipped migrations', async () => {
    const report = await migrate(t.db, migrations);
    expect(report.current).toBe(migrations.at(-1)?.version);
    expect(await tables(t.db)).toContain('kubeop_installation');
  });

  it('rolls back a transaction whose callback throws', async () => {
    await migrate(t.db, [m1]);
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO t1 VALUES ($1)', [1]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const { rowCount } = await t.db.query('SELECT * FROM t1');
    expect(rowCount).toBe(0);
  });
});

describe('concurrent migrators on one PostgreSQL database', () => {
  it('apply each migration exactly once', async () => {
    const t = await drivers[0]!.open();
    try {
      const { openPostgres } = await import('../../../src/db/postgres.ts');
      const others = await Promise.all([1, 2, 3].map(() => openPostgres(t.url!)));
      try {
        const counted: Migration = {
          version: 3,
          name: 'counted',
          sql: 'CREATE TABLE IF NOT EXISTS runs (n int); INSERT INTO runs VALUES (1);',
        };
        const reports = await Promise.all([t.db, ...others].map((db) => migrate(db, [m1, m2, counted])));
        const appliedEverywhere = reports.flatMap((r) => r.applied).sort();
        expect(appliedEverywhere).toEqual([1, 2, 3]);
        const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM runs');
        expect(rows[0]?.n).toBe(1);
      } finally {
        await Promise.all(others.map((db) => db.close()));
      }
    } finally {
      await t.drop();
    }
  });
});
