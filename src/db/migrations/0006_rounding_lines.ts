// Invoice lines multiply out (quantity × unit price = amount); the month-cumulative rounding rule's
// difference is a line of its own, kind 'rounding' (see src/domain/billing/lines.ts).
export const sql = `
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_kind_check;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_kind_check
  CHECK (kind IN ('fee', 'usage', 'allowance', 'rounding', 'adjustment'));
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_adjusts_kind_check;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_adjusts_kind_check
  CHECK (adjusts_kind IN ('fee', 'usage', 'allowance', 'rounding'));
`;
