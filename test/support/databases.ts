import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/db/database.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';

/**
 * The two database drivers every integration suite runs against. PostgreSQL is the real server on
 * 127.0.0.1:5432 (`KUBEOP_TEST_PG_URL` overrides); each test database is created fresh and dropped
 * afterwards so suites never see each other's rows. PGlite runs in memory. An unreachable PostgreSQL
 * fails the suite: it is never skipped.
 */
export const adminUrl = process.env.KUBEOP_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Database;
  /** The URL of the database (PostgreSQL only), for tests that open a second connection. */
  url?: string;
  drop(): Promise<void>;
}

export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `kubeop_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const drivers: Array<{ name: 'postgres' | 'pglite'; open: () => Promise<TestDatabase> }> = [
  {
    name: 'postgres',
    open: async () => {
      const created = await createPostgresDatabase();
      const db = await openPostgres(created.url);
      return {
        db,
        url: created.url,
        drop: async () => {
          await db.close();
          await created.drop();
        },
      };
    },
  },
  {
    name: 'pglite',
    open: async () => {
      const db = await openPglite(undefined);
      return { db, drop: () => db.close() };
    },
  },
];
