// Clusters the manager delivers to, the lease that gives one manager replica each cluster's outbox
// lane, and placement: every project lives on one cluster, every outbox entry names its cluster.
//
// clusters.kubeconfig holds a KMS envelope (src/kms), never plaintext; NULL means the kubeconfig comes
// from each manager's own configuration (KUBEOP_KUBECONFIG, KUBECONFIG or in-cluster), the cluster
// registered automatically at start. projects.cluster_id and outbox.cluster_id are NULL while no
// cluster exists; the first default cluster adopts them.
export const sql = `
CREATE TABLE clusters (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name           text NOT NULL UNIQUE,
  server         text NOT NULL,
  kubeconfig     text CHECK (kubeconfig LIKE 'kms1:%'),
  is_default     boolean NOT NULL DEFAULT false,
  labels         jsonb NOT NULL DEFAULT '{}',
  server_version text,
  checked_at     timestamptz,
  check_error    text,
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX clusters_one_default ON clusters (is_default) WHERE is_default;
CREATE UNIQUE INDEX clusters_one_local ON clusters ((kubeconfig IS NULL)) WHERE kubeconfig IS NULL;

CREATE TABLE cluster_leases (
  cluster_id  uuid PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
  holder      text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  renewed_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);

ALTER TABLE projects ADD COLUMN cluster_id uuid REFERENCES clusters (id);
CREATE INDEX projects_cluster ON projects (cluster_id);

ALTER TABLE outbox ADD COLUMN cluster_id uuid;
CREATE INDEX outbox_lane ON outbox (cluster_id, id) WHERE delivered_at IS NULL;
`;
