// Correcting usage through the API (see docs/concepts/billing.md, "Correcting usage"). A wrong event
// is voided, never deleted or edited: it stays in usage_events with who-knows-why in void_reason
// (the audit log says who), its key stays used so a retry cannot bring it back, and its quantity
// leaves the hourly rollup in the same transaction. Voiding usage of a finalized period is late
// usage like any other: recorded in usage_adjustments with a negative quantity.
export const sql = `
ALTER TABLE usage_events ADD COLUMN voided_at timestamptz;
ALTER TABLE usage_events ADD COLUMN void_reason text;
ALTER TABLE usage_events ADD CONSTRAINT usage_events_voided CHECK ((voided_at IS NULL) = (void_reason IS NULL));
`;
