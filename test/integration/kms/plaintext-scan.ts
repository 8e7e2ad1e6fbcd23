import type { Queryable } from '../../../src/db/database.ts';

export interface PlaintextFinding {
  table: string;
  column: string;
  /** Which secret (by index in the list given) and in what encoding it was found. */
  secret: number;
  encoding: 'raw' | 'json' | 'base64' | 'hex';
}

/**
 * Every way a secret could sit in a column without real encryption: as is, JSON-escaped (jsonb),
 * base64 at any alignment inside a larger value, and hex (how bytea prints).
 */
function forms(secret: string): Array<{ encoding: PlaintextFinding['encoding']; text: string }> {
  const bytes = Buffer.from(secret, 'utf8');
  const out: Array<{ encoding: PlaintextFinding['encoding']; text: string }> = [
    { encoding: 'raw', text: secret },
    { encoding: 'json', text: JSON.stringify(secret).slice(1, -1) },
    { encoding: 'hex', text: bytes.toString('hex') },
  ];
  // Base64 of the secret depends on its offset modulo 3 in the encoded value; the middle of each of
  // the three encodings is stable whatever surrounds it.
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const core = encoded.slice(shift === 0 ? 0 : 4, -4);
    if (core.length >= 8) out.push({ encoding: 'base64', text: core });
  }
  return out;
}

/**
 * Scans every column of every table in the current schema for the given secrets. A full flow that
 * stores secrets through the KMS must leave this empty. Reads whole tables: for test databases.
 */
export async function findPlaintext(db: Queryable, secrets: readonly string[]): Promise<PlaintextFinding[]> {
  const { rows: columns } = await db.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
     JOIN information_schema.tables t USING (table_schema, table_name)
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
     ORDER BY 1, 2`,
  );
  const needles = secrets.map((s) => forms(s));
  const findings: PlaintextFinding[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    const { rows } = await db.query<{ v: string }>(
      `SELECT "${column}"::text AS v FROM "${table}" WHERE "${column}" IS NOT NULL`,
    );
    needles.forEach((ways, secret) => {
      const hit = ways.find((w) => rows.some((r) => r.v.includes(w.text)));
      if (hit) findings.push({ table, column, secret, encoding: hit.encoding });
    });
  }
  return findings;
}
