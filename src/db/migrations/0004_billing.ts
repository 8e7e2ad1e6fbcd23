// Usage metering, plans and invoices (see docs/concepts/billing.md).
//
// usage_events keeps every accepted event once: its primary key is the idempotency key scoped to
// (cluster, source), so a retried batch inserts nothing. usage_hourly is the hourly rollup, kept up
// to date in the same statement that inserts the events (never rebuilt, never double-counted).
// Quantities are exact decimals (micro-units of the meter's base unit); money is integer minor units
// of the invoice's currency. Tenants, projects and apps are referred to by name: usage may come
// from clusters whose tenants were created with kubectl or GitOps, not through the API.
//
// Invoices are immutable once finalized: the application never updates them, and the triggers
// below refuse any UPDATE or DELETE of a finalized invoice and any change to its lines, whoever
// sends it. Invoice numbers come from a counter row updated in the finalizing transaction, so
// they have no gaps.
//
// The metering role is platform-wide like platform-admin (no tenant), but may only send usage.
export const sql = `
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN
  ('platform-admin', 'tenant-admin', 'project-admin', 'project-editor', 'project-viewer', 'metering'));
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_platform_wide
  CHECK ((role IN ('platform-admin', 'metering')) = (tenant_id IS NULL));

CREATE TABLE usage_events (
  cluster     text NOT NULL,
  source      text NOT NULL,
  key         text NOT NULL,
  tenant      text NOT NULL,
  project     text NOT NULL,
  app         text NOT NULL DEFAULT '',
  meter       text NOT NULL,
  quantity    numeric(38, 6) NOT NULL CHECK (quantity >= 0),
  at          timestamptz NOT NULL,
  hour        timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster, source, key)
);

CREATE TABLE usage_hourly (
  tenant   text NOT NULL,
  hour     timestamptz NOT NULL,
  project  text NOT NULL,
  app      text NOT NULL,
  meter    text NOT NULL,
  quantity numeric(38, 6) NOT NULL,
  events   integer NOT NULL,
  PRIMARY KEY (tenant, hour, project, app, meter)
);
CREATE INDEX usage_hourly_hour ON usage_hourly (hour);

CREATE TABLE plans (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE,
  currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- A version's prices apply from effective_from until the plan's next version.
CREATE TABLE plan_versions (
  plan_id        uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
  effective_from timestamptz NOT NULL CHECK (date_trunc('hour', effective_from) = effective_from),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (plan_id, effective_from)
);

CREATE TABLE plan_prices (
  plan_id        uuid NOT NULL,
  effective_from timestamptz NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('meter', 'fee')),
  item           text NOT NULL,
  unit_price     numeric(30, 12) NOT NULL CHECK (unit_price >= 0),
  included       numeric(38, 6) NOT NULL DEFAULT 0 CHECK (included >= 0),
  PRIMARY KEY (plan_id, effective_from, kind, item),
  FOREIGN KEY (plan_id, effective_from) REFERENCES plan_versions (plan_id, effective_from) ON DELETE CASCADE
);

-- A tenant is on a plan from effective_from until its next assignment.
CREATE TABLE tenant_plans (
  tenant         text NOT NULL,
  effective_from timestamptz NOT NULL CHECK (date_trunc('hour', effective_from) = effective_from),
  plan_id        uuid NOT NULL REFERENCES plans (id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, effective_from)
);

CREATE TABLE invoices (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  number       text UNIQUE,
  tenant       text NOT NULL,
  period_start timestamptz NOT NULL,
  period_end   timestamptz NOT NULL,
  currency     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('draft', 'finalized')),
  total        bigint NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finalized_at timestamptz,
  CHECK (period_end > period_start),
  CHECK ((status = 'finalized') = (number IS NOT NULL AND finalized_at IS NOT NULL))
);
CREATE UNIQUE INDEX invoices_one_draft ON invoices (tenant, period_start, period_end) WHERE status = 'draft';
CREATE INDEX invoices_tenant ON invoices (tenant, period_start);

CREATE TABLE invoice_lines (
  invoice_id   uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  position     integer NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('fee', 'usage', 'allowance', 'adjustment')),
  project      text,
  item         text NOT NULL,
  plan         text NOT NULL,
  plan_version timestamptz NOT NULL,
  quantity     numeric(38, 6) NOT NULL,
  unit         text NOT NULL,
  unit_price   numeric(30, 12) NOT NULL,
  amount       bigint NOT NULL,
  adjusts      uuid REFERENCES invoices (id),
  adjusts_kind text CHECK (adjusts_kind IN ('fee', 'usage', 'allowance')),
  description  text NOT NULL,
  CHECK ((kind = 'adjustment') = (adjusts IS NOT NULL AND adjusts_kind IS NOT NULL)),
  PRIMARY KEY (invoice_id, position)
);
CREATE INDEX invoice_lines_adjusts ON invoice_lines (adjusts) WHERE adjusts IS NOT NULL;

CREATE TABLE invoice_counter (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  last     bigint NOT NULL
);
INSERT INTO invoice_counter (last) VALUES (0);

-- Usage that arrived after the invoice covering its hour was finalized. The next invoice of the
-- tenant carries the difference as adjustment lines and records itself in applied_invoice_id.
CREATE TABLE usage_adjustments (
  id                 bigserial PRIMARY KEY,
  invoice_id         uuid NOT NULL REFERENCES invoices (id),
  tenant             text NOT NULL,
  project            text NOT NULL,
  app                text NOT NULL,
  meter              text NOT NULL,
  hour               timestamptz NOT NULL,
  quantity           numeric(38, 6) NOT NULL,
  received_at        timestamptz NOT NULL DEFAULT now(),
  applied_invoice_id uuid REFERENCES invoices (id)
);
CREATE INDEX usage_adjustments_pending ON usage_adjustments (tenant) WHERE applied_invoice_id IS NULL;

CREATE FUNCTION kubeop_invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'finalized' THEN
    RAISE EXCEPTION 'invoice % is finalized and cannot be changed or deleted', OLD.number
      USING ERRCODE = 'KO001';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
  FOR EACH ROW EXECUTE FUNCTION kubeop_invoice_immutable();

CREATE FUNCTION kubeop_invoice_line_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target uuid;
BEGIN
  IF TG_OP = 'INSERT' THEN target := NEW.invoice_id; ELSE target := OLD.invoice_id; END IF;
  IF EXISTS (SELECT 1 FROM invoices WHERE id = target AND status = 'finalized')
     OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM invoices WHERE id = NEW.invoice_id AND status = 'finalized')) THEN
    RAISE EXCEPTION 'the lines of a finalized invoice cannot be changed' USING ERRCODE = 'KO001';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
  FOR EACH ROW EXECUTE FUNCTION kubeop_invoice_line_immutable();
`;
