import { decrypt, encrypt } from './envelope.ts';
import type { KmsProvider } from './provider.ts';

/**
 * A column that holds envelopes (type `text`, one envelope per row, NULL allowed). `idColumn` is the
 * row's single-column primary key: rotation walks rows in its order and the envelope's associated
 * data binds the value to it.
 */
export interface EncryptedColumn {
  readonly table: string;
  readonly column: string;
  readonly idColumn: string;
}

// Names end up in SQL text (rotation, status), so only plain lower-case identifiers are accepted.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Declares an encrypted column; see registry.ts for where declarations live. */
export function encryptedColumn(table: string, column: string, idColumn = 'id'): EncryptedColumn {
  for (const name of [table, column, idColumn]) {
    if (!IDENTIFIER.test(name)) {
      throw new TypeError(
        `encrypted column: ${JSON.stringify(name)} is not a plain lower-case SQL identifier`,
      );
    }
  }
  if (column === idColumn) throw new TypeError(`encrypted column ${table}.${column} cannot be its own id`);
  return Object.freeze({ table, column, idColumn });
}

/** `clusters.kubeconfig`, for messages and progress output. */
export function columnName(c: EncryptedColumn): string {
  return `${c.table}.${c.column}`;
}

/** Throws when two declarations name the same column (they would be rotated twice). */
export function checkColumns(columns: readonly EncryptedColumn[]): readonly EncryptedColumn[] {
  const seen = new Set<string>();
  for (const c of columns) {
    const name = columnName(c);
    if (seen.has(name)) throw new TypeError(`encrypted column ${name} is declared twice`);
    seen.add(name);
  }
  return columns;
}

/**
 * What a repository needs to store a secret: seal a value for one row of one column, and open it.
 * Depend on this rather than on the provider (the narrowest interface).
 */
export interface SecretSealer {
  /** The envelope to store in `column` of row `id`. */
  seal(
    column: EncryptedColumn,
    id: string | number | bigint,
    plaintext: string | Uint8Array,
  ): Promise<string>;
  /** The plaintext bytes; throws KmsError when the value was altered or belongs to another row. */
  open(column: EncryptedColumn, id: string | number | bigint, envelope: string): Promise<Buffer>;
  /** The plaintext as UTF-8 text. */
  openText(column: EncryptedColumn, id: string | number | bigint, envelope: string): Promise<string>;
}

export function secretSealer(provider: KmsProvider): SecretSealer {
  const identity = (c: EncryptedColumn, id: string | number | bigint) => ({
    table: c.table,
    column: c.column,
    id,
  });
  return {
    seal: (c, id, plaintext) => encrypt(provider, plaintext, identity(c, id)),
    open: (c, id, envelope) => decrypt(provider, envelope, identity(c, id)),
    openText: async (c, id, envelope) =>
      (await decrypt(provider, envelope, identity(c, id))).toString('utf8'),
  };
}
