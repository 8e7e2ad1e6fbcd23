import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyGitFailure, lastLines, run } from './run.ts';

describe('git failures', () => {
  it.each([
    ["fatal: unable to access 'https://x/': Could not resolve host: x", 'SourceUnreachable', true],
    [
      "fatal: unable to access 'http://127.0.0.1:1/a.git/': Failed to connect to 127.0.0.1 port 1",
      'SourceUnreachable',
      true,
    ],
    [
      "fatal: could not read Username for 'https://x': terminal prompts disabled",
      'CredentialsMissing',
      false,
    ],
    ["fatal: Authentication failed for 'https://x/'", 'CredentialsMissing', false],
    ['git@x: Permission denied (publickey).', 'CredentialsMissing', false],
    ['Host key verification failed.', 'SourceUnreachable', false],
    ["fatal: couldn't find remote ref refs/heads/nope", 'RevisionNotFound', false],
    ['error: Server does not allow request for unadvertised object abc', 'RevisionNotFound', false],
    ['something new', 'RenderFailed', false],
  ] as const)('%s → %s', (stderr, reason, retryable) => {
    expect(classifyGitFailure(stderr, 'RenderFailed')).toEqual({ reason, retryable });
  });

  it('keeps the last lines of stderr and drops hints', () => {
    expect(lastLines('hint: do this\nline 1\n\nline 2\n')).toBe('line 1; line 2');
    expect(lastLines('E1126 21:47:58.773573   27050 run.go:72] "command failed" err="x"')).toBe(
      '"command failed" err="x"',
    );
  });

  it('never shows a secret in a failure message', async () => {
    const err = await run({
      binary: process.execPath,
      args: [
        '-e',
        'console.error("fatal: Authentication failed for https://bob:hunter22@x/ with hunter22"); process.exit(128)',
      ],
      env: {},
      timeoutMs: 10_000,
      what: 'git fetch',
      secrets: ['hunter22'],
      defaultReason: 'SourceUnreachable',
    }).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e as Error & { reason: string },
    );
    expect(err.reason).toBe('CredentialsMissing');
    expect(err.message).not.toContain('hunter22');
    expect(err.message).toContain('Authentication failed');
  });

  it('kills a command that runs past its timeout', async () => {
    const err = await run({
      binary: process.execPath,
      args: ['-e', 'setTimeout(() => {}, 10_000)'],
      env: {},
      timeoutMs: 200,
      what: 'git fetch',
      secrets: [],
      defaultReason: 'SourceUnreachable',
    }).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e as Error & { reason: string; retryable: boolean },
    );
    expect(err.reason).toBe('SourceUnreachable');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/did not finish within/);
  });

  it('kills the helpers a command started, not just the command', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubeop-run-'));
    const started = join(dir, 'started');
    const written = join(dir, 'written');
    const grandchild = `setTimeout(() => require('fs').writeFileSync(${JSON.stringify(written)}, 'x'), 2500)`;
    const err = await run({
      binary: process.execPath,
      args: [
        '-e',
        `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' });` +
          `require('fs').writeFileSync(${JSON.stringify(started)}, 'x'); setTimeout(() => {}, 20_000)`,
      ],
      env: {},
      timeoutMs: 1500,
      what: 'git fetch',
      secrets: [],
      defaultReason: 'SourceUnreachable',
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/did not finish/);
    expect(existsSync(started)).toBe(true);
    await new Promise((r) => setTimeout(r, 3000));
    expect(existsSync(written)).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('stops a command that writes more than allowed, and says when the binary is missing', async () => {
    const big = await run({
      binary: process.execPath,
      args: ['-e', 'process.stdout.write("x".repeat(100_000))'],
      env: {},
      timeoutMs: 10_000,
      maxOutputBytes: 1000,
      what: 'kubectl kustomize',
      secrets: [],
      defaultReason: 'RenderFailed',
    }).then(
      () => undefined,
      (e: unknown) => e as Error & { reason: string },
    );
    expect(big?.reason).toBe('SourceTooLarge');
    const missing = await run({
      binary: '/nonexistent/git',
      args: [],
      env: {},
      timeoutMs: 1000,
      what: 'git fetch',
      secrets: [],
      defaultReason: 'SourceUnreachable',
    }).then(
      () => undefined,
      (e: unknown) => e as Error & { reason: string },
    );
    expect(missing?.message).toBe('the git binary "/nonexistent/git" was not found');
  });
});
