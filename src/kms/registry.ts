import { checkColumns, encryptedColumn, type EncryptedColumn } from './columns.ts';

/**
 * Every column in which the manager stores a secret. A table with a secret adds one entry here, and
 * its repository seals and opens values through that entry:
 *
 *     clusterKubeconfig: encryptedColumn('clusters', 'kubeconfig'),   // from ./columns.ts
 *     // in the repository: await sealer.seal(encryptedColumns.clusterKubeconfig, row.id, kubeconfig)
 *
 * `kubeop kms rotate`, `kubeop kms status`, `kubeop kms can-retire` and the plaintext scan test walk
 * this list, so a secret column missing from it is neither rotated nor checked. The column is `text`
 * and holds envelopes only; a migration can enforce that with `CHECK (kubeconfig LIKE 'kms1:%')`.
 */
export const encryptedColumns = {
  /** A registered cluster's kubeconfig (the manager's credentials for that cluster). */
  clusterKubeconfig: encryptedColumn('clusters', 'kubeconfig'),
} satisfies Record<string, EncryptedColumn>;

export const allEncryptedColumns: readonly EncryptedColumn[] = checkColumns(Object.values(encryptedColumns));
