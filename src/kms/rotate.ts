import type { Database, Queryable } from '../db/database.ts';
import { columnName, type EncryptedColumn } from './columns.ts';
import { ENVELOPE_VERSION, rewrap } from './envelope.ts';
import { KmsError } from './errors.ts';
import type { KmsProvider } from './provider.ts';

/**
 * Key rotation: every envelope whose data key is wrapped under a key other than the active one gets
 * its data key re-wrapped under the active key. The data field is not touched.
 *
 * Guarantees:
 * - Online. Each batch commits on its own; at every moment each row holds a complete envelope, under
 *   either the old or the new key, and readers whose keyring holds both keys can open it.
 * - Never overwrites a concurrent write. A batch is computed from the values it read, then applied in
 *   one short transaction with a compare-and-swap (`WHERE id = … AND value = <value read>`). A row
 *   changed or deleted meanwhile is left alone and counted; a later pass picks it up if the writer
 *   still used an old key.
 * - Resumable. Progress is not stored anywhere: the rows still to do are those whose envelope names
 *   another key, so a run interrupted at any point (even inside a batch, which then rolls back) is
 *   finished by running it again.
 * - KMS calls happen before the transaction, so a slow external KMS never holds row locks.
 */
export interface RotationOptions {
  /** Rows per batch (and per transaction). Default 100. */
  batchSize?: number;
  /** Called after each committed batch. */
  onBatch?: (progress: BatchProgress) => void;
  /** Checked before each batch and before each commit; aborting leaves committed batches in place. */
  signal?: AbortSignal;
  /** Passes over a column while concurrent writers keep changing rows. Default 3. */
  maxPasses?: number;
}

export interface BatchProgress {
  column: string;
  toKeyId: string;
  pass: number;
  batch: number;
  /** Totals for the column so far. */
  rewrapped: number;
  changedConcurrently: number;
  failed: number;
  /** Rows on other keys when the column started: the expected work. */
  pending: number;
}

export interface ColumnRotation {
  column: string;
  toKeyId: string;
  rewrapped: number;
  changedConcurrently: number;
  failed: number;
  /** Rows still on other keys after the last pass (0 when the column is done). */
  remaining: number;
  /** The first few per-row failures (`row 42: key "k0" is not in the local keyring …`). */
  errors: string[];
}

export interface RotationReport {
  toKeyId: string;
  columns: ColumnRotation[];
  /** True when no row of any column uses another key. */
  complete: boolean;
}

const MAX_ERRORS = 5;

const ident = (name: string) => `"${name}"`;

/** Envelopes in `c` whose key id is not `$1`. */
function onOtherKey(c: EncryptedColumn): string {
  const v = ident(c.column);
  return `${v} LIKE '${ENVELOPE_VERSION}:%' AND split_part(${v}, ':', 2) <> $1`;
}

async function countOnOtherKeys(db: Queryable, c: EncryptedColumn, keyId: string): Promise<number> {
  const { rows } = await db.query<{ n: unknown }>(
    `SELECT count(*) AS n FROM ${ident(c.table)} WHERE ${onOtherKey(c)}`,
    [keyId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Re-wraps every envelope of one column under the provider's active key. */
export async function rotateColumn(
  db: Database,
  provider: KmsProvider,
  c: EncryptedColumn,
  opts: RotationOptions = {},
): Promise<ColumnRotation> {
  const batchSize = opts.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a positive integer');
  const maxPasses = opts.maxPasses ?? 3;
  const toKeyId = provider.activeKeyId;
  const name = columnName(c);
  const [t, id, v] = [ident(c.table), ident(c.idColumn), ident(c.column)];
  const select = (after: boolean) =>
    `SELECT ${id} AS id, ${v} AS value FROM ${t} WHERE ${onOtherKey(c)}${after ? ` AND ${id} > $3` : ''} ORDER BY ${id} LIMIT $2`;
  const update = `UPDATE ${t} SET ${v} = $1 WHERE ${id} = $2 AND ${v} = $3`;

  const result: ColumnRotation = {
    column: name,
    toKeyId,
    rewrapped: 0,
    changedConcurrently: 0,
    failed: 0,
    remaining: 0,
    errors: [],
  };
  const pending = await countOnOtherKeys(db, c, toKeyId);
  let batch = 0;
  for (let pass = 1; ; pass++) {
    let cursor: unknown = undefined;
    let changedThisPass = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const { rows } = await db.query<{ id: unknown; value: string }>(
        select(cursor !== undefined),
        cursor === undefined ? [toKeyId, batchSize] : [toKeyId, batchSize, cursor],
      );
      if (rows.length === 0) break;
      cursor = rows.at(-1)!.id;

      const settled = await Promise.allSettled(rows.map((r) => rewrap(provider, r.value, toKeyId)));
      const updates: Array<{ id: unknown; old: string; next: string }> = [];
      settled.forEach((s, i) => {
        const row = rows[i]!;
        if (s.status === 'fulfilled') {
          updates.push({ id: row.id, old: row.value, next: s.value });
          return;
        }
        // A row whose key is missing or whose wrapped key is damaged is skipped, not fatal: the rest of
        // the column still moves, and the run reports the row and ends incomplete.
        if (!(s.reason instanceof KmsError)) throw s.reason;
        result.failed++;
        if (result.errors.length < MAX_ERRORS)
          result.errors.push(`row ${String(row.id)}: ${s.reason.message}`);
      });

      opts.signal?.throwIfAborted();
      const applied = await db.transaction(async (tx) => {
        let n = 0;
        for (const u of updates) n += (await tx.query(update, [u.next, u.id, u.old])).rowCount;
        return n;
      });
      result.rewrapped += applied;
      result.changedConcurrently += updates.length - applied;
      changedThisPass += updates.length - applied;
      batch++;
      opts.onBatch?.({
        column: name,
        toKeyId,
        pass,
        batch,
        rewrapped: result.rewrapped,
        changedConcurrently: result.changedConcurrently,
        failed: result.failed,
        pending,
      });
    }
    result.remaining = await countOnOtherKeys(db, c, toKeyId);
    // Another pass only helps when a concurrent writer put back a value under an old key.
    if (result.remaining === 0 || changedThisPass === 0 || pass >= maxPasses) break;
  }
  return result;
}

/** Rotates every column in turn; see rotateColumn. */
export async function rotate(
  db: Database,
  provider: KmsProvider,
  columns: readonly EncryptedColumn[],
  opts: RotationOptions = {},
): Promise<RotationReport> {
  const report: RotationReport = { toKeyId: provider.activeKeyId, columns: [], complete: true };
  for (const c of columns) {
    const r = await rotateColumn(db, provider, c, opts);
    report.columns.push(r);
    if (r.remaining > 0) report.complete = false;
  }
  return report;
}

export interface KeyUsage {
  column: string;
  /** null: rows whose value is not an envelope (plaintext, or a format this kubeop does not know). */
  keyId: string | null;
  rows: number;
}

/** How many non-NULL values of each column use each key. */
export async function keyUsage(db: Queryable, columns: readonly EncryptedColumn[]): Promise<KeyUsage[]> {
  const out: KeyUsage[] = [];
  for (const c of columns) {
    const v = ident(c.column);
    const { rows } = await db.query<{ key_id: string | null; n: unknown }>(
      `SELECT CASE WHEN ${v} LIKE '${ENVELOPE_VERSION}:%' THEN split_part(${v}, ':', 2) END AS key_id, count(*) AS n
       FROM ${ident(c.table)} WHERE ${v} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    for (const r of rows) out.push({ column: columnName(c), keyId: r.key_id, rows: Number(r.n) });
  }
  return out;
}

export interface RetirementCheck {
  keyId: string;
  /** The key is the active one: new records use it, so it cannot be retired. */
  active: boolean;
  /** Records that still need the key, per column. */
  rows: number;
  byColumn: Array<{ column: string; rows: number }>;
  /** No record needs the key and it is not active: it can be removed from the keyring. */
  retirable: boolean;
}

/**
 * Whether `keyId` can be removed from the keyring. Only meaningful once every process writing secrets
 * runs with the new active key (otherwise one of them can still write a record under the old key
 * right after the check).
 */
export async function checkRetirement(
  db: Queryable,
  provider: Pick<KmsProvider, 'activeKeyId'>,
  columns: readonly EncryptedColumn[],
  keyId: string,
): Promise<RetirementCheck> {
  const byColumn: RetirementCheck['byColumn'] = [];
  for (const c of columns) {
    const v = ident(c.column);
    const { rows } = await db.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM ${ident(c.table)} WHERE ${v} LIKE '${ENVELOPE_VERSION}:%' AND split_part(${v}, ':', 2) = $1`,
      [keyId],
    );
    byColumn.push({ column: columnName(c), rows: Number(rows[0]?.n ?? 0) });
  }
  const rows = byColumn.reduce((sum, c) => sum + c.rows, 0);
  const active = keyId === provider.activeKeyId;
  return { keyId, active, rows, byColumn, retirable: !active && rows === 0 };
}

/** Registered columns the database does not have (the schema is older than this kubeop). */
export async function missingColumns(db: Queryable, columns: readonly EncryptedColumn[]): Promise<string[]> {
  const missing: string[] = [];
  for (const c of columns) {
    const { rows } = await db.query(
      `SELECT 1 FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = $1 AND column_name IN ($2, $3)`,
      [c.table, c.column, c.idColumn],
    );
    if (rows.length < 2) missing.push(columnName(c));
  }
  return missing;
}
