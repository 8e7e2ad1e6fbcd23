import type { Queryable } from '../../db/database.ts';
import { HOUR_MS } from '../../domain/billing/hours.ts';
import type { LineKind, RatedLine } from '../../domain/billing/rating.ts';

const ts = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const iso = (hour: number) => new Date(hour * HOUR_MS).toISOString();
const hourCol = (col: string) => `(extract(epoch FROM ${col})::bigint / 3600)::int`;

export interface InvoiceRow {
  id: string;
  number: string | null;
  tenant: string;
  status: 'draft' | 'finalized';
  periodStart: number;
  periodEnd: number;
  currency: string;
  total: bigint;
  createdAt: string;
  finalizedAt: string | null;
}

/** A rated line as stored, or an adjustment of a line of an earlier invoice (`adjusts`). */
export type StoredLine = Omit<RatedLine, 'kind'> & {
  kind: LineKind | 'adjustment';
  adjusts: string | null;
  adjustsKind: LineKind | null;
  description: string;
};

const invoiceColumns = `id, number, tenant, status, ${hourCol('period_start')} AS "periodStart",
  ${hourCol('period_end')} AS "periodEnd", currency, total::text AS total,
  ${ts('created_at')} AS "createdAt", ${ts('finalized_at')} AS "finalizedAt"`;

type RawInvoice = Omit<InvoiceRow, 'total'> & { total: string };
const toInvoice = (r: RawInvoice): InvoiceRow => ({ ...r, total: BigInt(r.total) });

export async function getInvoice(q: Queryable, id: string): Promise<InvoiceRow | undefined> {
  const { rows } = await q.query<RawInvoice>(`SELECT ${invoiceColumns} FROM invoices WHERE id = $1`, [id]);
  return rows[0] && toInvoice(rows[0]);
}

export async function getInvoiceForUpdate(q: Queryable, id: string): Promise<InvoiceRow | undefined> {
  const { rows } = await q.query<RawInvoice>(
    `SELECT ${invoiceColumns} FROM invoices WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0] && toInvoice(rows[0]);
}

export async function listInvoices(
  q: Queryable,
  opts: { tenant?: string; status?: string; limit: number },
): Promise<InvoiceRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (opts.tenant) {
    params.push(opts.tenant);
    where.push(`tenant = $${params.length}`);
  }
  if (opts.status) {
    params.push(opts.status);
    where.push(`status = $${params.length}`);
  }
  params.push(opts.limit);
  const { rows } = await q.query<RawInvoice>(
    `SELECT ${invoiceColumns} FROM invoices ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY period_start DESC, tenant, invoices.id LIMIT $${params.length}`,
    params,
  );
  return rows.map(toInvoice);
}

/** Finalized invoices of the tenant whose period overlaps [start, end). */
export async function overlappingFinalized(
  q: Queryable,
  tenant: string,
  start: number,
  end: number,
): Promise<InvoiceRow[]> {
  const { rows } = await q.query<RawInvoice>(
    `SELECT ${invoiceColumns} FROM invoices
     WHERE tenant = $1 AND status = 'finalized' AND period_start < $3 AND period_end > $2`,
    [tenant, iso(start), iso(end)],
  );
  return rows.map(toInvoice);
}

/** The draft for exactly this tenant and period, created if there is none (one per period). */
export async function upsertDraft(
  q: Queryable,
  d: { tenant: string; start: number; end: number; currency: string; total: bigint },
): Promise<{ id: string; created: boolean }> {
  const { rows } = await q.query<{ id: string; created: boolean }>(
    `INSERT INTO invoices (tenant, period_start, period_end, currency, status, total)
     VALUES ($1, $2, $3, $4, 'draft', $5)
     ON CONFLICT (tenant, period_start, period_end) WHERE status = 'draft'
     DO UPDATE SET currency = EXCLUDED.currency, total = EXCLUDED.total, updated_at = now()
     RETURNING id, (xmax = 0) AS created`,
    [d.tenant, iso(d.start), iso(d.end), d.currency, d.total.toString()],
  );
  return rows[0]!;
}

export async function replaceLines(q: Queryable, invoiceId: string, lines: StoredLine[]): Promise<void> {
  await q.query('DELETE FROM invoice_lines WHERE invoice_id = $1', [invoiceId]);
  if (lines.length === 0) return;
  const col = <K extends keyof StoredLine>(k: K, f: (v: StoredLine[K]) => unknown = (v) => v) =>
    lines.map((l) => f(l[k]));
  await q.query(
    `INSERT INTO invoice_lines (invoice_id, position, kind, project, item, plan, plan_version, quantity, unit,
       unit_price, amount, adjusts, adjusts_kind, description)
     SELECT $1, t.ord, t.kind, t.project, t.item, t.plan, to_timestamp(t.pv * 3600), t.quantity, t.unit,
       t.unit_price, t.amount, t.adjusts, t.adjusts_kind, t.description
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::numeric[], $8::text[],
                 $9::numeric[], $10::bigint[], $11::uuid[], $12::text[], $13::text[])
       WITH ORDINALITY AS t(kind, project, item, plan, pv, quantity, unit, unit_price, amount, adjusts,
                            adjusts_kind, description, ord)`,
    [
      invoiceId,
      col('kind'),
      col('project'),
      col('item'),
      col('plan'),
      col('planVersion'),
      col('quantity'),
      col('unit'),
      col('unitPrice'),
      col('amount', (a) => a.toString()),
      col('adjusts'),
      col('adjustsKind'),
      col('description'),
    ],
  );
}

export async function invoiceLines(q: Queryable, invoiceIds: string[]): Promise<Map<string, StoredLine[]>> {
  const { rows } = await q.query<Omit<StoredLine, 'amount'> & { amount: string; invoiceId: string }>(
    `SELECT invoice_id AS "invoiceId", kind, project, item, plan, ${hourCol('plan_version')} AS "planVersion",
       quantity::text AS quantity, unit, unit_price::text AS "unitPrice", amount::text AS amount,
       adjusts, adjusts_kind AS "adjustsKind", description
     FROM invoice_lines WHERE invoice_id = ANY($1::uuid[]) ORDER BY invoice_id, position`,
    [invoiceIds],
  );
  const out = new Map<string, StoredLine[]>(invoiceIds.map((id) => [id, []]));
  for (const { invoiceId, ...r } of rows) out.get(invoiceId)!.push({ ...r, amount: BigInt(r.amount) });
  return out;
}

/** Adjustment lines of finalized invoices that correct `invoiceId`. */
export async function finalizedAdjustmentsOf(q: Queryable, invoiceId: string): Promise<StoredLine[]> {
  const { rows } = await q.query<{ invoiceId: string }>(
    `SELECT DISTINCT l.invoice_id AS "invoiceId" FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
     WHERE l.adjusts = $1 AND i.status = 'finalized'`,
    [invoiceId],
  );
  const lines = await invoiceLines(
    q,
    rows.map((r) => r.invoiceId),
  );
  return [...lines.values()].flat().filter((l) => l.adjusts === invoiceId);
}

/** Finalized invoices of the tenant ending by `before` with late usage not yet carried by an invoice. */
export async function invoicesWithPendingAdjustments(
  q: Queryable,
  tenant: string,
  before: number,
): Promise<InvoiceRow[]> {
  const { rows } = await q.query<RawInvoice>(
    `SELECT ${invoiceColumns} FROM invoices
     WHERE status = 'finalized' AND tenant = $1 AND period_end <= $2
       AND id IN (SELECT invoice_id FROM usage_adjustments WHERE tenant = $1 AND applied_invoice_id IS NULL)
     ORDER BY period_start`,
    [tenant, iso(before)],
  );
  return rows.map(toInvoice);
}

export async function markAdjustmentsApplied(
  q: Queryable,
  invoiceId: string,
  adjustedIds: string[],
): Promise<void> {
  if (adjustedIds.length === 0) return;
  await q.query(
    `UPDATE usage_adjustments SET applied_invoice_id = $1
     WHERE applied_invoice_id IS NULL AND invoice_id = ANY($2::uuid[])`,
    [invoiceId, adjustedIds],
  );
}

/** The next invoice number, gapless: the counter row is updated in the finalizing transaction. */
export async function nextInvoiceNumber(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ last: string }>(
    'UPDATE invoice_counter SET last = last + 1 RETURNING last::text AS last',
  );
  return `INV-${rows[0]!.last.padStart(6, '0')}`;
}

export async function markFinalized(q: Queryable, id: string, number: string, total: bigint): Promise<void> {
  await q.query(
    `UPDATE invoices SET status = 'finalized', number = $2, total = $3, finalized_at = now(), updated_at = now()
     WHERE id = $1 AND status = 'draft'`,
    [id, number, total.toString()],
  );
}

export async function updateDraftTotal(
  q: Queryable,
  id: string,
  currency: string,
  total: bigint,
): Promise<void> {
  await q.query(`UPDATE invoices SET currency = $2, total = $3, updated_at = now() WHERE id = $1`, [
    id,
    currency,
    total.toString(),
  ]);
}

export async function deleteDraft(q: Queryable, id: string): Promise<void> {
  await q.query(`DELETE FROM invoices WHERE id = $1 AND status = 'draft'`, [id]);
}

export async function invoiceNumbers(q: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await q.query<{ id: string; number: string | null }>(
    'SELECT id, number FROM invoices WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return new Map(rows.filter((r) => r.number).map((r) => [r.id, r.number!]));
}
