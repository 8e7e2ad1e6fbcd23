/**
 * The one query layer the manager uses, with two drivers: a PostgreSQL server (`pg`) and embedded
 * PGlite. Both speak the same SQL dialect (PGlite is PostgreSQL compiled to WebAssembly), so the
 * repositories and migrations above this interface are driver-agnostic.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** One statement with `$1`-style parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly driver: 'postgres' | 'pglite';
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws (the error is
   * rethrown). Everything `fn` does must go through `tx`.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; used by `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  readonly code = 'KUBEOP_ERR_DATABASE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}
