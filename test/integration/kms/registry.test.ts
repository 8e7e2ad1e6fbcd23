import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.ts';
import { migrations } from '../../../src/db/migrations/index.ts';
import { columnName } from '../../../src/kms/columns.ts';
import { allEncryptedColumns } from '../../../src/kms/registry.ts';
import { drivers, type TestDatabase } from '../../support/databases.ts';

// The registry against the manager's real schema: what is registered exists as a text column, and
// no column whose name says it holds a secret is missing from the registry (a net for a new table
// that stores a credential without going through the KMS). Hashes and references are not secrets.
const SECRET_NAME = /(kubeconfig|password|passwd|secret|credential|private_key|api_key|access_key|token)/;
const NOT_A_SECRET = /(_hash|_id|_at|_name|_ref|_type)$/;

describe.each(drivers)('encrypted column registry on $name', ({ open }) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await open();
    await migrate(t.db, migrations);
  });
  afterEach(async () => {
    await t.drop();
  });

  async function columns() {
    const { rows } = await t.db.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = current_schema() ORDER BY 1, 2`,
    );
    return rows;
  }

  it('every registered column exists in the migrated schema as text', async () => {
    const all = await columns();
    for (const c of allEncryptedColumns) {
      const found = all.find((r) => r.table_name === c.table && r.column_name === c.column);
      expect(found?.data_type, columnName(c)).toBe('text');
      expect(
        all.some((r) => r.table_name === c.table && r.column_name === c.idColumn),
        columnName(c),
      ).toBe(true);
    }
  });

  it('every column named like a secret is registered', async () => {
    const registered = new Set(allEncryptedColumns.map(columnName));
    const unregistered = (await columns())
      .filter((r) => ['text', 'bytea', 'jsonb', 'json', 'character varying'].includes(r.data_type))
      .filter((r) => SECRET_NAME.test(r.column_name) && !NOT_A_SECRET.test(r.column_name))
      .map((r) => `${r.table_name}.${r.column_name}`)
      .filter((name) => !registered.has(name));
    expect(unregistered, 'register these in src/kms/registry.ts (or rename if they hold no secret)').toEqual(
      [],
    );
  });
});
