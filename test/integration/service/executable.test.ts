import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../src/db/migrations/index.ts';
import { createPostgresDatabase } from '../../support/databases.ts';
import { kubeopBin, runKubeop, startKubeop } from '../../support/kubeop-process.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kubeop-exe-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function oneLine(text: string): string {
  const lines = text.split('\n').filter(Boolean);
  expect(lines, text).toHaveLength(1);
  return lines[0]!;
}

describe('kubeop executable errors', () => {
  it('an unknown command prints one line and exits 2', async () => {
    const r = await runKubeop(['deploy-everything']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe("kubeop: unknown command 'deploy-everything'");
  });

  it('a near miss suggests the command on the same line', async () => {
    const r = await runKubeop(['migrat']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/unknown command 'migrat'.*Did you mean migrate\?/);
  });

  it('an unknown flag prints one line and exits 2', async () => {
    const r = await runKubeop(['all', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe("kubeop: unknown option '--no-such-flag'");
  });

  it('a flag without its value prints one line and exits 2', async () => {
    const r = await runKubeop(['manager', '--http-addr']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/option '--http-addr <value>' argument missing/);
  });

  it('a bad environment value names the variable and exits 2 before starting', async () => {
    const r = await runKubeop(['operator'], { KUBEOP_LOG_LEVEL: 'loud' });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^kubeop: KUBEOP_LOG_LEVEL="loud" is invalid: expected one of/);
  });

  it('a bad flag value names the variable it stands for', async () => {
    const r = await runKubeop(['admission', '--shutdown-timeout-seconds', 'forever']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/KUBEOP_SHUTDOWN_TIMEOUT_SECONDS="forever" is invalid/);
  });

  it('a malformed KUBEOP_BOOTSTRAP_TOKEN is a configuration error: exit 2, one line, the value hidden', async () => {
    const given = 'kop_tooShort';
    const r = await runKubeop(['manager'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_DATA_DIR: tempDir(),
      KUBEOP_BOOTSTRAP_TOKEN: given,
    });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'kubeop: KUBEOP_BOOTSTRAP_TOKEN=(value hidden) is invalid: expected "kop_" followed by 32 to 128 base64url characters (A-Z, a-z, 0-9, "_", "-"), for example kop_$(openssl rand -hex 24)',
    );
    expect(r.stderr + r.stdout).not.toContain(given);
  });

  it('the operator without a cluster stops with one line saying how to configure one', async () => {
    const r = await runKubeop(['operator'], { KUBEOP_HTTP_ADDR: '127.0.0.1:0', HOME: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      'kubeop: no cluster configured: set KUBEOP_KUBECONFIG or KUBECONFIG, or run inside a cluster',
    );
  });

  it('a kubeconfig path that does not exist is named in the error', async () => {
    const r = await runKubeop(['operator'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_KUBECONFIG: '/nope/config',
    });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe('kubeop: KUBEOP_KUBECONFIG=/nope/config does not exist');
  });

  it('no command shows help on stderr and exits 2', async () => {
    const r = await runKubeop([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: kubeop');
  });

  it('an unreachable database stops the manager with one line that hides the password', async () => {
    const r = await runKubeop(['manager'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_DB_URL: 'postgres://kubeop:hunter2@127.0.0.1:1/kubeop',
    });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^kubeop: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/kubeop/);
    expect(r.stderr + r.stdout).not.toContain('hunter2');
  });
});

describe('kubeop help and version', () => {
  it.each(['manager', 'operator', 'admission', 'all', 'migrate', 'version'])(
    '%s --help exits 0',
    async (cmd) => {
      const r = await runKubeop([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: kubeop ${cmd}`);
    },
  );

  it('lists every command in the top-level help', async () => {
    const r = await runKubeop(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['manager', 'operator', 'admission', 'all', 'migrate', 'version']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    }
  });

  it('version --json prints the build information', async () => {
    const r = await runKubeop(['version', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      service: 'kubeop',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      gitCommit: expect.any(String),
      buildDate: expect.any(String),
    });
  });
});

describe('kubeop all', () => {
  it('serves the four endpoints on KUBEOP_HTTP_ADDR and exits 0 on SIGTERM', async () => {
    // No cluster: the manager serves on its own and the operator says it is not running.
    const svc = await startKubeop(['all'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_DATA_DIR: tempDir(),
      KUBECONFIG: '/nonexistent/kubeconfig',
    });
    try {
      const health = await fetch(`${svc.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${svc.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ checks: { database: { status: 'ok' } } });
      const version = (await (await fetch(`${svc.url}/version`)).json()) as Record<string, unknown>;
      expect(version.service).toBe('all');
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(metrics).toContain('kubeop_http_request_duration_seconds_bucket{le="0.005",route="/healthz"');
    } finally {
      expect(await svc.stop('SIGTERM')).toBe(0);
    }
    expect(svc.logs().map((l) => l.msg)).toContain('shutdown complete');
    expect(svc.logs().map((l) => l.msg)).toContain(
      'no cluster configured (KUBEOP_KUBECONFIG, KUBECONFIG, in-cluster): the operator is not running',
    );
  });

  it('without a cluster keeps changes in the outbox and says so: in the log and in the metrics', async () => {
    const token = `kop_${'q'.repeat(40)}`;
    const svc = await startKubeop(['all'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_DATA_DIR: tempDir(),
      KUBEOP_BOOTSTRAP_TOKEN: token,
      KUBECONFIG: '/nonexistent/kubeconfig',
    });
    try {
      const created = await fetch(`${svc.url}/v1/tenants`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'acme', spec: { owners: [{ kind: 'User', name: 'alice' }] } }),
      });
      expect(created.status).toBe(201);
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(metrics).toMatch(/^kubeop_manager_outbox_pending{cluster=""} 1$/m);
      const listed = (await (
        await fetch(`${svc.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { items: Array<{ name: string }> };
      expect(listed.items.map((t) => t.name)).toEqual(['acme']);
    } finally {
      expect(await svc.stop('SIGTERM')).toBe(0);
    }
    expect(svc.logs()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'no cluster registered: changes are kept in the outbox until one is',
      }),
    );
  });

  it('shuts down when its parent goes away (npm start does not pass SIGTERM on)', async () => {
    const dataDir = tempDir();
    // A parent that starts kubeop in the background and reports its pid, as npm's shell does.
    const parent = spawn(
      'sh',
      ['-c', `"${process.execPath}" "${kubeopBin}" all > "${dataDir}/out.log" 2>&1 & echo $!; wait`],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          KUBEOP_HTTP_ADDR: '127.0.0.1:0',
          KUBEOP_DATA_DIR: dataDir,
          KUBECONFIG: '/nonexistent/kubeconfig',
        },
      },
    );
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (d: Buffer) => resolve(Number(d))),
    );
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const until = async (want: (log: string) => boolean, what: string) => {
      for (let i = 0; i < 300; i++) {
        const log = existsSync(`${dataDir}/out.log`) ? readFileSync(`${dataDir}/out.log`, 'utf8') : '';
        if (want(log)) return log;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    await until((log) => log.includes('listening on http://'), 'kubeop to listen');
    parent.kill('SIGKILL');
    const log = await until(() => !alive(), 'kubeop to exit');
    expect(log).toContain('parent process exited; shutting down');
    expect(log).toContain('"exitCode":0');
  });

  it('warns about an unknown KUBEOP_ variable', async () => {
    const svc = await startKubeop(['admission'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_HTTP_ADRR: 'typo',
    });
    expect(await svc.stop('SIGINT')).toBe(0);
    expect(svc.logs()).toContainEqual(
      expect.objectContaining({ level: 'warn', variable: 'KUBEOP_HTTP_ADRR' }),
    );
  });
});

const latest = migrations.at(-1)!.version;

describe('kubeop manager and migrate on PostgreSQL', () => {
  it('migrate applies the schema once, then reports nothing to do', async () => {
    const pg = await createPostgresDatabase();
    try {
      const first = await runKubeop(['migrate', '--db-url', pg.url]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toBe(
        migrations.map((m) => `applying ${m.version} ${m.name}\n`).join('') +
          `migrated to version ${latest} (${migrations.length} applied)\n`,
      );
      const second = await runKubeop(['migrate'], { KUBEOP_DB_URL: pg.url });
      expect(second.code).toBe(0);
      expect(second.stdout).toBe(`already at version ${latest}; nothing to apply\n`);
    } finally {
      await pg.drop();
    }
  });

  it('the manager reports its database in /readyz', async () => {
    const pg = await createPostgresDatabase();
    try {
      const svc = await startKubeop(['manager'], { KUBEOP_HTTP_ADDR: '127.0.0.1:0', KUBEOP_DB_URL: pg.url });
      try {
        const ready = await fetch(`${svc.url}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ checks: { database: { status: 'ok' } } });
      } finally {
        expect(await svc.stop()).toBe(0);
      }
    } finally {
      await pg.drop();
    }
  });

  it('migrate on the embedded database keeps its data between runs', async () => {
    const dataDir = tempDir();
    const first = await runKubeop(['migrate', '--data-dir', dataDir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`migrated to version ${latest}`);
    const second = await runKubeop(['migrate', '--data-dir', dataDir]);
    expect(second.stdout).toBe(`already at version ${latest}; nothing to apply\n`);
  });
});

describe('kubeop manager API', () => {
  it('prints a bootstrap token once, on first start only, and the token works', async () => {
    const dataDir = tempDir();
    const env = { KUBEOP_HTTP_ADDR: '127.0.0.1:0', KUBEOP_DATA_DIR: dataDir };
    const first = await startKubeop(['manager'], env);
    let token = '';
    try {
      token = /kop_[A-Za-z0-9_-]+/.exec(first.stderr())?.[0] ?? '';
      expect(token).toMatch(/^kop_/);
      // Never in the JSON logs.
      expect(JSON.stringify(first.logs())).not.toContain(token);
      const res = await fetch(`${first.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await startKubeop(['manager'], env);
    try {
      expect(second.stderr()).not.toMatch(/kop_/);
      const res = await fetch(`${second.url}/v1/tenants`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('takes the bootstrap token from KUBEOP_BOOTSTRAP_TOKEN', async () => {
    const given = 'kop_' + 'a'.repeat(40);
    const svc = await startKubeop(['manager'], {
      KUBEOP_HTTP_ADDR: '127.0.0.1:0',
      KUBEOP_DATA_DIR: tempDir(),
      KUBEOP_BOOTSTRAP_TOKEN: given,
    });
    try {
      expect(svc.stderr()).not.toContain(given);
      expect(
        (await fetch(`${svc.url}/v1/tenants`, { headers: { authorization: `Bearer ${given}` } })).status,
      ).toBe(200);
    } finally {
      await svc.stop();
    }
    // A malformed one is a configuration error (exit 2): see 'kubeop executable errors' above.
  });
});
