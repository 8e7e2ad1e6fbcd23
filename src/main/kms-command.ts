import { InvalidArgumentError, type Command } from 'commander';
import type { Database } from '../db/database.ts';
import { openDatabase } from '../db/open.ts';
import type { EncryptedColumn } from '../kms/columns.ts';
import { openKmsProvider } from '../kms/open.ts';
import type { KmsProvider } from '../kms/provider.ts';
import { allEncryptedColumns } from '../kms/registry.ts';
import { checkRetirement, keyUsage, missingColumns, rotate } from '../kms/rotate.ts';
import { loadConfig, type Config, type ConfigKey } from '../platform/config.ts';
import type { CliIO } from './cli.ts';

/** What `kubeop kms …` borrows from the CLI so its flags behave like every other command's. */
export interface KmsCommandDeps {
  addConfigOptions: (cmd: Command, only?: ConfigKey[]) => Command;
  flagsToConfig: (opts: Record<string, unknown>) => Partial<Record<ConfigKey, string>>;
  /** The columns to work on; the registry by default (tests pass their own). */
  columns?: readonly EncryptedColumn[];
}

const SETTINGS: ConfigKey[] = [
  'KUBEOP_DB_URL',
  'KUBEOP_DATA_DIR',
  'KUBEOP_KMS_MASTER_KEY',
  'KUBEOP_KMS_KEYS',
  'KUBEOP_KMS_ACTIVE_KEY',
  'KUBEOP_KMS_DEV_MODE',
];

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 100_000) {
    throw new InvalidArgumentError('expected an integer from 1 to 100000');
  }
  return n;
}

/**
 * `kubeop kms status | rotate | can-retire <key id>`. Exit codes follow the CLI: 0 done, 1 failure
 * (including "rotation incomplete" and "key still in use"), 2 usage or configuration error. Keys are
 * checked before the database is opened, so a configuration error never touches the data.
 */
export function registerKmsCommands(program: Command, io: CliIO, deps: KmsCommandDeps): void {
  const columns = deps.columns ?? allEncryptedColumns;
  const out = (line: string) => io.stdout(`${line}\n`);
  const warn = (message: string) => io.stderr(`kubeop: WARNING: ${message}\n`);

  async function withDatabase(config: Config, fn: (db: Database) => Promise<void>): Promise<void> {
    const db = await openDatabase({ url: config.KUBEOP_DB_URL, dataDir: config.KUBEOP_DATA_DIR });
    try {
      const missing = await missingColumns(db, columns);
      if (missing.length > 0) {
        throw new Error(`the database has no column ${missing.join(', ')}: run \`kubeop migrate\` first`);
      }
      await fn(db);
    } finally {
      await db.close();
    }
  }

  const kms = program
    .command('kms')
    .description('Envelope encryption of stored secrets: key usage, rotation, retiring old keys.');

  deps
    .addConfigOptions(
      kms.command('status').description('Show how many stored secrets each key protects, per column.'),
      SETTINGS,
    )
    .action(async (opts: Record<string, unknown>) => {
      const { config } = loadConfig(io.env, deps.flagsToConfig(opts));
      const configured =
        config.KUBEOP_KMS_MASTER_KEY !== undefined ||
        config.KUBEOP_KMS_KEYS !== undefined ||
        config.KUBEOP_KMS_DEV_MODE;
      // Status reads key ids only, so it also works without keys (to find out which are needed).
      const provider: KmsProvider | undefined = configured ? openKmsProvider(config, { warn }) : undefined;
      await withDatabase(config, async (db) => {
        if (columns.length === 0) return out('no encrypted columns are registered');
        const usage = await keyUsage(db, columns);
        for (const c of columns) {
          const name = `${c.table}.${c.column}`;
          const rows = usage.filter((u) => u.column === name);
          if (rows.length === 0) out(`${name}: no values`);
          for (const u of rows) {
            const note =
              u.keyId === null
                ? ' (NOT ENCRYPTED)'
                : provider?.activeKeyId === u.keyId
                  ? ' (active)'
                  : provider && !provider.keyIds().includes(u.keyId)
                    ? ' (key missing from the keyring)'
                    : '';
            out(`${name}: ${u.keyId ?? '-'} ${u.rows}${note}`);
          }
        }
      });
    });

  deps
    .addConfigOptions(
      kms
        .command('rotate')
        .description(
          'Re-wrap every stored data key under the active key (KUBEOP_KMS_ACTIVE_KEY), in batches. Online and resumable: run it again after an interruption.',
        )
        .option('--batch-size <rows>', 'rows per batch and transaction', positiveInteger, 100),
      SETTINGS,
    )
    .action(async (opts: Record<string, unknown>) => {
      const { config } = loadConfig(io.env, deps.flagsToConfig(opts));
      const provider = openKmsProvider(config, { warn });
      await withDatabase(config, async (db) => {
        if (columns.length === 0) return out('no encrypted columns are registered; nothing to rotate');
        const report = await rotate(db, provider, columns, {
          batchSize: opts.batchSize as number,
          onBatch: (p) =>
            out(
              `${p.column}: batch ${p.batch}: ${p.rewrapped} of ${p.pending} re-wrapped under ${p.toKeyId} (${p.changedConcurrently} changed concurrently, ${p.failed} failed)`,
            ),
        });
        for (const c of report.columns) {
          out(
            c.remaining === 0
              ? `${c.column}: done, every value uses ${c.toKeyId} (${c.rewrapped} re-wrapped)`
              : `${c.column}: ${c.remaining} values still use other keys${c.errors[0] ? `; first failure: ${c.errors[0]}` : ''}`,
          );
        }
        if (!report.complete) {
          const left = report.columns.reduce((n, c) => n + c.remaining, 0);
          throw new Error(`rotation incomplete: ${left} stored secrets still use other keys (see above)`);
        }
        out(
          `every stored secret uses ${report.toKeyId}; check an old key with \`kubeop kms can-retire <key id>\``,
        );
      });
    });

  deps
    .addConfigOptions(
      kms
        .command('can-retire')
        .description(
          'Exit 0 when no stored secret uses <key-id> and it is not the active key, so it can be removed from the keyring; exit 1 otherwise.',
        )
        .argument('<key-id>', 'the key to retire'),
      SETTINGS,
    )
    .action(async (keyId: string, opts: Record<string, unknown>) => {
      const { config } = loadConfig(io.env, deps.flagsToConfig(opts));
      const provider = openKmsProvider(config, { warn });
      await withDatabase(config, async (db) => {
        const check = await checkRetirement(db, provider, columns, keyId);
        if (check.active) {
          throw new Error(
            `key ${keyId} is the active key; make another key active and run \`kubeop kms rotate\` first`,
          );
        }
        if (check.rows > 0) {
          const where = check.byColumn
            .filter((c) => c.rows > 0)
            .map((c) => `${c.column}: ${c.rows}`)
            .join(', ');
          const missing = provider.keyIds().includes(keyId) ? '' : ' and it is missing from the keyring';
          throw new Error(
            `key ${keyId} still protects ${check.rows} stored secrets (${where})${missing}; run \`kubeop kms rotate\` first`,
          );
        }
        out(`key ${keyId} protects no stored secret; it can be removed from the keyring`);
      });
    });
}
