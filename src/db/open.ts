import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

/** The driver the configuration asks for: a PostgreSQL URL, or embedded PGlite under the data dir. */
export function openDatabase(opts: { url?: string | undefined; dataDir: string }): Promise<Database> {
  return opts.url ? openPostgres(opts.url) : openPglite(`${opts.dataDir}/pglite`);
}
