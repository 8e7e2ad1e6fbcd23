import { describe, expect, it } from 'vitest';
import type { InvoiceResource } from '../../schemas/billing.ts';
import { invoiceCsv, invoiceHtml, invoiceView } from './invoice-render.ts';

const invoice: InvoiceResource = invoiceView(
  {
    id: '0b9c3c39-8d53-4a4b-9f0e-4d4a3b1c2d3e',
    number: 'INV-000007',
    tenant: 'acme',
    status: 'finalized',
    periodStart: Date.parse('2026-09-01T00:00:00Z') / 3_600_000,
    periodEnd: Date.parse('2026-10-01T00:00:00Z') / 3_600_000,
    currency: 'EUR',
    total: 4313n,
    createdAt: '2026-10-01T00:05:00Z',
    finalizedAt: '2026-10-01T00:06:00Z',
  },
  [
    {
      kind: 'usage',
      project: 'web',
      item: 'cpu',
      plan: 'standard',
      planVersion: Date.parse('2026-01-01T00:00:00Z') / 3_600_000,
      quantity: '1440.000000',
      unit: 'core-hour',
      unitPrice: '0.030000000000',
      amount: 4320n,
      adjusts: null,
      adjustsKind: null,
      description: 'cpu used by project web, "quoted", <b>bold</b>',
    },
    {
      kind: 'adjustment',
      project: null,
      item: 'cpu',
      plan: 'standard',
      planVersion: Date.parse('2026-01-01T00:00:00Z') / 3_600_000,
      quantity: '-1',
      unit: 'core-hour',
      unitPrice: '0.07',
      amount: -7n,
      adjusts: 'id-of-inv-1',
      adjustsKind: 'allowance',
      description: '=HYPERLINK("x")',
    },
  ],
  new Map([['id-of-inv-1', 'INV-000001']]),
);

describe('invoice rendering', () => {
  it('shows amounts in major units with the currency, and quantities without padding zeros', () => {
    expect(invoice.total).toBe('43.13');
    expect(invoice.lines[0]).toMatchObject({
      quantity: '1440',
      unitPrice: '0.03',
      amount: '43.20',
      currency: 'EUR',
    });
    expect(invoice.lines[1]).toMatchObject({ amount: '-0.07', adjusts: 'INV-000001' });
    expect(invoice.periodStart).toBe('2026-09-01T00:00:00Z');
  });

  it('writes CSV whose amounts sum to its total row, quoting and defusing what a spreadsheet would run', () => {
    const csv = invoiceCsv(invoice);
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe(
      'invoice,tenant,period_start,period_end,kind,project,item,plan,plan_version,quantity,unit,unit_price,amount,currency,adjusts,description',
    );
    expect(rows[1]).toContain(',43.20,EUR,,"cpu used by project web, ""quoted"", <b>bold</b>"');
    expect(rows[2]).toContain(`,-0.07,EUR,INV-000001,"'=HYPERLINK(""x"")"`);
    expect(rows[3]).toContain(',total,');
    expect(rows[3]).toContain(',43.13,EUR,');
  });

  it('renders HTML with every text escaped and no script', () => {
    const html = invoiceHtml(invoice);
    expect(html).toContain('<h1>Invoice INV-000007</h1>');
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('43.13');
    expect(html).not.toContain('DRAFT');
  });
});
