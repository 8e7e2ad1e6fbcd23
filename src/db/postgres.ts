import pg from 'pg';
import { DatabaseError, type Database, type Queryable, type QueryResult } from './database.ts';

/** A Database on a PostgreSQL server, pooled. */
export async function openPostgres(url: string, opts: { maxConnections?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 10 });
  // An idle client that loses its server emits 'error' on the pool; without a listener Node exits.
  // The next query reconnects, so the error is only noted.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end();
    // The URL may carry a password: name the host only.
    throw new DatabaseError(`cannot connect to PostgreSQL at ${describe(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const on = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await c.query(sql, params);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await c.query(sql);
    },
  });
  return {
    driver: 'postgres',
    ...on(pool),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(on(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}

/** `postgres://user:secret@db:5432/x` → `db:5432/x` (never the credentials). */
export function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
