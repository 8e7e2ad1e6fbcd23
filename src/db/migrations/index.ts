import type { Migration } from '../migrate.ts';
import * as m0001 from './0001_installation.ts';
import * as m0002 from './0002_manager.ts';
import * as m0003 from './0003_clusters.ts';
import * as m0004 from './0004_billing.ts';
import * as m0005 from './0005_usage_corrections.ts';
import * as m0006 from './0006_rounding_lines.ts';

/**
 * Every migration, in order. Forward only: an applied migration is never edited (its checksum is
 * checked at start) and never removed; a schema change is a new entry at the end.
 */
export const migrations: Migration[] = [
  { version: 1, name: 'installation', sql: m0001.sql },
  { version: 2, name: 'manager', sql: m0002.sql },
  { version: 3, name: 'clusters', sql: m0003.sql },
  { version: 4, name: 'billing', sql: m0004.sql },
  { version: 5, name: 'usage-corrections', sql: m0005.sql },
  { version: 6, name: 'rounding-lines', sql: m0006.sql },
];
