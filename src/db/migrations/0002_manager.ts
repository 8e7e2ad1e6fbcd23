// The manager's resources, its API tokens, the audit log, and the outbox that carries every change
// to the clusters. Specs are stored as JSON in the shape of the CRD specs (one schema source);
// `version` increments on every change and is the ETag.
export const sql = `
CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE,
  spec        jsonb NOT NULL,
  status      jsonb,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  name        text NOT NULL UNIQUE,
  spec        jsonb NOT NULL,
  status      jsonb,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_tenant ON projects (tenant_id, name);

CREATE TABLE apps (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid NOT NULL REFERENCES projects (id),
  name        text NOT NULL,
  spec        jsonb NOT NULL,
  status      jsonb,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);

CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  token_hash   bytea NOT NULL UNIQUE,
  role         text NOT NULL CHECK (role IN ('platform-admin', 'tenant-admin', 'project-admin', 'project-editor', 'project-viewer')),
  tenant_id    uuid REFERENCES tenants (id) ON DELETE CASCADE,
  project_id   uuid REFERENCES projects (id) ON DELETE CASCADE,
  created_by   uuid,
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'platform-admin') = (tenant_id IS NULL)),
  CHECK ((role LIKE 'project-%') = (project_id IS NOT NULL))
);

CREATE TABLE audit_log (
  id            bigserial PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor         text NOT NULL,
  action        text NOT NULL,
  resource_type text NOT NULL,
  resource_name text NOT NULL,
  tenant_id     uuid,
  request_id    text,
  outcome       text NOT NULL,
  detail        jsonb
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL,
  name         text NOT NULL,
  namespace    text,
  operation    text NOT NULL CHECK (operation IN ('apply', 'delete')),
  payload      jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL;

CREATE TABLE idempotency_keys (
  token_id     uuid NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  status       integer NOT NULL,
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (token_id, key)
);
`;
