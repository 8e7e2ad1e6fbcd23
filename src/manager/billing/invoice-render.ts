import { currencyExponent, formatDecimal, formatMoney } from '../../domain/billing/decimal.ts';
import { hourToIso } from '../../domain/billing/hours.ts';
import type { InvoiceResource } from '../../schemas/billing.ts';
import type { InvoiceRow, StoredLine } from './invoice-store.ts';

/** Decimal text from the database without insignificant zeros: "0.030000000000" → "0.03". */
const trim = (d: string) => (d.includes('.') ? d.replace(/0+$/, '').replace(/\.$/, '') : d);

/** An invoice without its lines, as lists show it: the total as a decimal string in major units. */
export function invoiceSummary(inv: InvoiceRow) {
  return {
    id: inv.id,
    number: inv.number,
    tenant: inv.tenant,
    status: inv.status,
    periodStart: hourToIso(inv.periodStart),
    periodEnd: hourToIso(inv.periodEnd),
    currency: inv.currency,
    total: formatMoney({ minor: inv.total, currency: inv.currency }),
    createdAt: inv.createdAt,
    finalizedAt: inv.finalizedAt,
  };
}

/** The API view of an invoice: amounts as decimal strings in major units, next to their currency. */
export function invoiceView(
  inv: InvoiceRow,
  lines: StoredLine[],
  numbers: Map<string, string>,
): InvoiceResource {
  const exp = currencyExponent(inv.currency);
  const money = (minor: bigint) => formatDecimal(minor, exp, exp);
  return {
    ...invoiceSummary(inv),
    lines: lines.map((l) => ({
      kind: l.kind,
      project: l.project,
      item: l.item,
      plan: l.plan,
      planVersion: hourToIso(l.planVersion),
      quantity: trim(l.quantity),
      unit: l.unit,
      unitPrice: trim(l.unitPrice),
      amount: money(l.amount),
      currency: inv.currency,
      description: l.description,
      adjusts: l.adjusts ? (numbers.get(l.adjusts) ?? l.adjusts) : null,
    })),
  };
}

const CSV_COLUMNS = [
  'invoice',
  'tenant',
  'period_start',
  'period_end',
  'kind',
  'project',
  'item',
  'plan',
  'plan_version',
  'quantity',
  'unit',
  'unit_price',
  'amount',
  'currency',
  'adjusts',
  'description',
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
function csvField(v: string): string {
  const safe = /^[=+\-@]/.test(v) && !/^-?\d/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One row per line, then a total row; amounts are the same decimal strings as in the JSON view. */
export function invoiceCsv(inv: InvoiceResource): string {
  const head = [inv.number ?? `draft-${inv.id}`, inv.tenant, inv.periodStart, inv.periodEnd];
  const rows = inv.lines.map((l) => [
    ...head,
    l.kind,
    l.project ?? '',
    l.item,
    l.plan,
    l.planVersion,
    l.quantity,
    l.unit,
    l.unitPrice,
    l.amount,
    l.currency,
    l.adjusts ?? '',
    l.description,
  ]);
  rows.push([...head, 'total', '', '', '', '', '', '', '', inv.total, inv.currency, '', 'Total']);
  return [CSV_COLUMNS.join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\r\n') + '\r\n';
}

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** A self-contained HTML page a finance team can print or send (no scripts, no external assets). */
export function invoiceHtml(inv: InvoiceResource): string {
  const title = inv.number ? `Invoice ${inv.number}` : 'Draft invoice';
  const fmt = (iso: string) => iso.slice(0, 16).replace('T', ' ') + ' UTC';
  const row = (l: InvoiceResource['lines'][number]) => `<tr>
<td>${esc(l.description)}${l.adjusts ? ` <small>(corrects ${esc(l.adjusts)})</small>` : ''}</td>
<td>${esc(l.project ?? '')}</td><td class="n">${esc(l.quantity)}</td><td>${esc(l.unit)}</td>
<td class="n">${esc(l.unitPrice)}</td><td class="n">${esc(l.amount)}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} — ${esc(inv.tenant)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tfoot td{font-weight:bold;border-top:2px solid #222}
.draft{color:#b00;font-weight:bold}
</style></head><body>
<h1>${esc(title)}</h1>
${inv.status === 'draft' ? '<p class="draft">DRAFT — not final; amounts may change until the invoice is finalized.</p>' : ''}
<p>Tenant: <strong>${esc(inv.tenant)}</strong><br>
Period: ${esc(fmt(inv.periodStart))} to ${esc(fmt(inv.periodEnd))}<br>
${inv.finalizedAt ? `Issued: ${esc(fmt(inv.finalizedAt))}<br>` : ''}Currency: ${esc(inv.currency)}</p>
<table><thead><tr><th>Description</th><th>Project</th><th class="n">Quantity</th><th>Unit</th>
<th class="n">Unit price</th><th class="n">Amount</th></tr></thead>
<tbody>${inv.lines.map(row).join('')}</tbody>
<tfoot><tr><td colspan="5">Total (${esc(inv.currency)})</td><td class="n">${esc(inv.total)}</td></tr></tfoot></table>
<p><small>Amounts are rounded half-to-even to the currency's minor unit per line; see the kubeOP billing documentation.</small></p>
</body></html>
`;
}
