import { createHash } from 'node:crypto';
import type { Database } from './database.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export type MigrationErrorCode =
  'KUBEOP_ERR_MIGRATION_MODIFIED' | 'KUBEOP_ERR_SCHEMA_TOO_NEW' | 'KUBEOP_ERR_MIGRATION_FAILED';

export class MigrationError extends Error {
  readonly code: MigrationErrorCode;
  constructor(code: MigrationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.code = code;
  }
}

export interface MigrationReport {
  applied: number[];
  current: number;
}

// Any constant works; it only has to be the same for every kubeOP process sharing a database.
const LOCK_KEY = 0x6b75_6265;

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Applies pending migrations, each in its own transaction together with its bookkeeping row, so a
 * failure leaves the schema at the last complete version. Concurrent migrators (two managers starting
 * at once) serialise on a transaction-scoped advisory lock and re-check what is applied under it, so
 * each migration runs exactly once. Refuses to run when an applied migration was edited or when the
 * database is newer than this binary (forward only: an old binary must not touch a newer schema).
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[],
  onProgress: (m: Migration) => void = () => {},
): Promise<MigrationReport> {
  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS races in PostgreSQL's catalog.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS kubeop_schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );`);
  });
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const applied: number[] = [];
  for (const m of sorted) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const { rows } = await tx.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM kubeop_schema_migrations ORDER BY version',
      );
      const newest = rows.at(-1)?.version ?? 0;
      const latestKnown = sorted.at(-1)?.version ?? 0;
      if (newest > latestKnown) {
        throw new MigrationError(
          'KUBEOP_ERR_SCHEMA_TOO_NEW',
          `database schema is at version ${newest}, newer than this kubeop knows (${latestKnown}); run a newer kubeop`,
        );
      }
      const existing = rows.find((r) => r.version === m.version);
      if (existing) {
        if (existing.checksum !== checksum(m.sql)) {
          throw new MigrationError(
            'KUBEOP_ERR_MIGRATION_MODIFIED',
            `migration ${m.version} (${m.name}) differs from the one applied to this database; applied migrations must never change`,
          );
        }
        return false;
      }
      onProgress(m);
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new MigrationError(
          'KUBEOP_ERR_MIGRATION_FAILED',
          `migration ${m.version} (${m.name}) failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
      await tx.query('INSERT INTO kubeop_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        checksum(m.sql),
      ]);
      return true;
    });
    if (ran) applied.push(m.version);
  }
  const { rows } = await db.query<{ v: number | null }>(
    'SELECT max(version) AS v FROM kubeop_schema_migrations',
  );
  return { applied, current: rows[0]?.v ?? 0 };
}
