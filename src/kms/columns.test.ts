import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkColumns, columnName, encryptedColumn, secretSealer } from './columns.ts';
import { LocalKeyring } from './local.ts';
import { allEncryptedColumns } from './registry.ts';

describe('encrypted columns', () => {
  it('declares a column with the id column defaulting to id', () => {
    const c = encryptedColumn('clusters', 'kubeconfig');
    expect(c).toEqual({ table: 'clusters', column: 'kubeconfig', idColumn: 'id' });
    expect(Object.isFrozen(c)).toBe(true);
    expect(columnName(c)).toBe('clusters.kubeconfig');
  });

  it.each([
    ['clusters; DROP TABLE x', 'kubeconfig'],
    ['Clusters', 'kubeconfig'],
    ['clusters', 'kube"config'],
    ['clusters', ''],
  ])('refuses %s.%s, which is not a plain identifier (names are put into SQL)', (table, column) => {
    expect(() => encryptedColumn(table, column)).toThrow(/not a plain lower-case SQL identifier/);
  });

  it('refuses a column that is its own id, and a column declared twice', () => {
    expect(() => encryptedColumn('t', 'id')).toThrow(/its own id/);
    expect(() => checkColumns([encryptedColumn('t', 'a'), encryptedColumn('t', 'a', 'uid')])).toThrow(
      /t.a is declared twice/,
    );
  });

  it('the registry passes its own checks', () => {
    expect(() => checkColumns(allEncryptedColumns)).not.toThrow();
  });
});

describe('secretSealer', () => {
  const sealer = secretSealer(new LocalKeyring([{ id: 'k', key: randomBytes(32) }], 'k'));
  const kubeconfig = encryptedColumn('clusters', 'kubeconfig');
  const token = encryptedColumn('clusters', 'token');

  it('seals for one row of one column and opens it there only', async () => {
    const sealed = await sealer.seal(kubeconfig, 'c1', 'apiVersion: v1');
    expect(await sealer.openText(kubeconfig, 'c1', sealed)).toBe('apiVersion: v1');
    expect((await sealer.open(kubeconfig, 'c1', sealed)).toString()).toBe('apiVersion: v1');
    await expect(sealer.open(kubeconfig, 'c2', sealed)).rejects.toMatchObject({
      code: 'KUBEOP_ERR_KMS_DECRYPT',
    });
    await expect(sealer.open(token, 'c1', sealed)).rejects.toMatchObject({ code: 'KUBEOP_ERR_KMS_DECRYPT' });
  });
});
