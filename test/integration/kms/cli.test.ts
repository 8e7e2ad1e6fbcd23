import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../src/db/migrate.ts';
import { openDatabase } from '../../../src/db/open.ts';
import { registerKmsCommands } from '../../../src/main/kms-command.ts';
import { configVariables, flagForVariable, type ConfigKey } from '../../../src/platform/config.ts';
import { createPostgresDatabase } from '../../support/databases.ts';
import { runKubeop } from '../../support/kubeop-process.ts';
import {
  keyFor,
  keyring,
  kmsTestMigrations,
  readSecret,
  seedSecrets,
  seedTokens,
  testColumns,
  type SeededRow,
} from './fixtures.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kubeop-kms-cli-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const b64 = (id: string) => keyFor(id).toString('base64');
const ringEnv = { KUBEOP_KMS_KEYS: `k2:${b64('k2')},k1:${b64('k1')}`, KUBEOP_KMS_ACTIVE_KEY: 'k2' };

function oneLine(text: string): string {
  const lines = text.split('\n').filter(Boolean);
  expect(lines, text).toHaveLength(1);
  return lines[0]!;
}

describe('kubeop kms (the executable)', () => {
  it('stops with exit 2 and one line when no key is configured, before touching the database', async () => {
    const dir = tempDir();
    const r = await runKubeop(['kms', 'rotate'], { KUBEOP_DATA_DIR: dir });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^kubeop: KUBEOP_KMS_MASTER_KEY is not set: /);
    expect(existsSync(join(dir, 'pglite'))).toBe(false);
  });

  it('names a short key without echoing it', async () => {
    const key = randomBytes(16).toString('base64');
    const r = await runKubeop(['kms', 'status'], { KUBEOP_KMS_MASTER_KEY: key, KUBEOP_DATA_DIR: tempDir() });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'kubeop: KUBEOP_KMS_MASTER_KEY decodes to 16 bytes; a key must be exactly 32 bytes; generate one with `openssl rand -base64 32`',
    );
    expect(r.stderr + r.stdout).not.toContain(key);
  });

  it('rejects a bad batch size as a usage error', async () => {
    const r = await runKubeop(['kms', 'rotate', '--batch-size', '0'], { KUBEOP_KMS_MASTER_KEY: b64('k1') });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/--batch-size.*expected an integer from 1 to 100000/);
  });

  it('refuses to call the active key retirable (exit 1)', async () => {
    const dir = tempDir();
    expect((await runKubeop(['migrate'], { KUBEOP_DATA_DIR: dir })).code).toBe(0);
    const r = await runKubeop(['kms', 'can-retire', 'master'], {
      KUBEOP_KMS_MASTER_KEY: b64('k1'),
      KUBEOP_DATA_DIR: dir,
    });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^kubeop: key master is the active key; make another key active/);
  });

  it('says loudly that development mode protects nothing, and still works', async () => {
    const dir = tempDir();
    expect((await runKubeop(['migrate'], { KUBEOP_DATA_DIR: dir })).code).toBe(0);
    const r = await runKubeop(['kms', 'rotate'], { KUBEOP_KMS_DEV_MODE: 'true', KUBEOP_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^kubeop: WARNING: KUBEOP_KMS_DEV_MODE=true: .*NOT protected/);
    expect(existsSync(join(dir, 'kms-dev-key'))).toBe(true);
  });

  it('lists its subcommands', async () => {
    const r = await runKubeop(['kms', '--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['status', 'rotate', 'can-retire'])
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}`, 'm'));
  });
});

// In process, on the suite's own tables, against both drivers the way an operator points kubeop at
// them: KUBEOP_DB_URL for PostgreSQL, KUBEOP_DATA_DIR for embedded PGlite.
const targets = [
  {
    name: 'postgres',
    create: async () => {
      const created = await createPostgresDatabase();
      return { env: { KUBEOP_DB_URL: created.url, KUBEOP_DATA_DIR: tempDir() }, drop: created.drop };
    },
  },
  { name: 'pglite', create: async () => ({ env: { KUBEOP_DATA_DIR: tempDir() }, drop: async () => {} }) },
];

/** The CLI's flag helpers, as cli.ts passes them. */
const deps = {
  addConfigOptions: (cmd: Command, only?: ConfigKey[]) => {
    for (const { name } of configVariables()) {
      if (!only || only.includes(name)) cmd.addOption(new Option(`${flagForVariable(name)} <value>`));
    }
    return cmd;
  },
  flagsToConfig: (opts: Record<string, unknown>) => {
    const out: Partial<Record<ConfigKey, string>> = {};
    for (const { name } of configVariables()) {
      const key = flagForVariable(name)
        .slice(2)
        .replace(/-([a-z])/g, (_m: string, c: string) => c.toUpperCase());
      if (typeof opts[key] === 'string') out[name] = opts[key];
    }
    return out;
  },
  columns: testColumns,
};

describe.each(targets)('kubeop kms on the test tables ($name)', ({ create }) => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ env, drop } = await create());
  });
  afterEach(async () => {
    await drop();
  });

  async function kubeop(args: string[], extra: Record<string, string> = {}) {
    let stdout = '';
    let stderr = '';
    const io = {
      env: { ...env, ...extra },
      stdout: (s: string) => (stdout += s),
      stderr: (s: string) => (stderr += s),
    };
    const program = new Command('kubeop')
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    registerKmsCommands(program, io, deps);
    let error: string | undefined;
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch (err) {
      error = (err as Error).message;
    }
    return { stdout, stderr, error };
  }

  async function seed(fn: Parameters<typeof withDb>[0]) {
    await withDb(async (db) => {
      await migrate(db, kmsTestMigrations);
      await fn(db);
    });
  }
  async function withDb(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>) {
    const db = await openDatabase({ url: env.KUBEOP_DB_URL, dataDir: env.KUBEOP_DATA_DIR! });
    try {
      await fn(db);
    } finally {
      await db.close();
    }
  }

  it('shows key usage, rotates in batches with progress, then lets the old key go', async () => {
    let seeded: SeededRow[] = [];
    await seed(async (db) => {
      seeded = await seedSecrets(db, keyring('k1'), 45);
      await seedTokens(db, keyring('k1'), 10);
    });

    expect((await kubeop(['kms', 'status'], ringEnv)).stdout).toBe(
      'kms_test_secrets.secret: k1 45\nkms_test_tokens.token: k1 10\n',
    );
    expect((await kubeop(['kms', 'can-retire', 'k1'], ringEnv)).error).toBe(
      'key k1 still protects 55 stored secrets (kms_test_secrets.secret: 45, kms_test_tokens.token: 10); run `kubeop kms rotate` first',
    );

    const rotation = await kubeop(['kms', 'rotate', '--batch-size', '20'], ringEnv);
    expect(rotation.error).toBeUndefined();
    expect(rotation.stdout.split('\n')).toEqual([
      'kms_test_secrets.secret: batch 1: 20 of 45 re-wrapped under k2 (0 changed concurrently, 0 failed)',
      'kms_test_secrets.secret: batch 2: 40 of 45 re-wrapped under k2 (0 changed concurrently, 0 failed)',
      'kms_test_secrets.secret: batch 3: 45 of 45 re-wrapped under k2 (0 changed concurrently, 0 failed)',
      'kms_test_tokens.token: batch 1: 10 of 10 re-wrapped under k2 (0 changed concurrently, 0 failed)',
      'kms_test_secrets.secret: done, every value uses k2 (45 re-wrapped)',
      'kms_test_tokens.token: done, every value uses k2 (10 re-wrapped)',
      'every stored secret uses k2; check an old key with `kubeop kms can-retire <key id>`',
      '',
    ]);

    expect((await kubeop(['kms', 'status'], ringEnv)).stdout).toBe(
      'kms_test_secrets.secret: k2 45 (active)\nkms_test_tokens.token: k2 10 (active)\n',
    );
    const retire = await kubeop(['kms', 'can-retire', 'k1'], ringEnv);
    expect(retire.error).toBeUndefined();
    expect(retire.stdout).toBe('key k1 protects no stored secret; it can be removed from the keyring\n');
    // The old key is really unused: the ring without it opens everything.
    await withDb(async (db) => {
      for (const row of seeded) expect(await readSecret(db, keyring('k2'), row.id)).toBe(row.plaintext);
    });
  });

  it('ends a rotation that cannot finish with a one-line failure, and status shows why', async () => {
    await seed(async (db) => {
      await seedSecrets(db, keyring('k1'), 3);
      await seedSecrets(db, keyring('k0'), 1);
    });
    const r = await kubeop(['kms', 'rotate'], ringEnv);
    expect(r.error).toBe('rotation incomplete: 1 stored secrets still use other keys (see above)');
    expect(r.stdout).toMatch(
      /^kms_test_secrets.secret: 1 values still use other keys; first failure: row [0-9a-f-]+: key "k0" is not in the local keyring/m,
    );
    expect((await kubeop(['kms', 'status'], ringEnv)).stdout).toBe(
      'kms_test_secrets.secret: k0 1 (key missing from the keyring)\nkms_test_secrets.secret: k2 3 (active)\nkms_test_tokens.token: no values\n',
    );
    for (const out of [r.stdout, r.stderr, r.error ?? '']) {
      expect(out).not.toContain(b64('k1'));
      expect(out).not.toContain(b64('k2'));
    }
  });

  it('asks for migrations when the tables are missing', async () => {
    const r = await kubeop(['kms', 'rotate'], ringEnv);
    expect(r.error).toBe(
      'the database has no column kms_test_secrets.secret, kms_test_tokens.token: run `kubeop migrate` first',
    );
  });
});
