// The installation record: one row naming this kubeOP installation. Its id is stable for the life of
// the database, so usage events and audit entries can say which installation produced them.
export const sql = `
CREATE TABLE kubeop_installation (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  id         uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`;
