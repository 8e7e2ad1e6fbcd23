import { execFile, type ExecFileException } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceError, type SourceFailureReason } from '../source.ts';
import { redact } from './redact.ts';

export interface RunHelmOptions {
  helmBinary: string;
  args: string[];
  timeoutMs: number;
  /** Largest stdout accepted; more is a SourceTooLarge failure rather than an out-of-memory. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** Strings that must never reach a message (secret values, credentials). */
  secrets?: string[];
  /** What failed, for messages: "helm template", "helm pull". */
  what: string;
  /** The reason a non-zero exit maps to when no better one is recognised. */
  failureReason?: SourceFailureReason;
  /** Recognises a better reason from helm's stderr (e.g. "not found" → RevisionNotFound). */
  classify?: (stderr: string) => SourceFailureReason | undefined;
  /** Extra environment (e.g. HELM_REGISTRY_CONFIG); the rest is an isolated home. */
  env?: Record<string, string>;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

/**
 * Runs the helm CLI without a shell, in a throw-away HOME and HELM_*_HOME so that nothing on the host
 * (plugins, repositories, registry logins, a kubeconfig) influences a tenant's render, and maps every
 * failure to a SourceError whose message is helm's own trimmed stderr with secrets removed.
 */
export async function runHelm(opts: RunHelmOptions): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'kubeop-helm-home-'));
  try {
    const dirs = { HELM_CACHE_HOME: 'cache', HELM_CONFIG_HOME: 'config', HELM_DATA_HOME: 'data' };
    for (const d of Object.values(dirs)) await mkdir(join(home, d));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      ...Object.fromEntries(Object.entries(dirs).map(([k, d]) => [k, join(home, d)])),
      HELM_PLUGINS: join(home, 'plugins'),
      // No cluster: `helm template` must not talk to one (lookup stays empty, see the docs).
      KUBECONFIG: join(home, 'no-kubeconfig'),
      ...opts.env,
    };
    return await new Promise<string>((resolve, reject) => {
      execFile(
        opts.helmBinary,
        opts.args,
        {
          env,
          cwd: home,
          timeout: opts.timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
          encoding: 'utf8',
          ...(opts.signal ? { signal: opts.signal } : {}),
          windowsHide: true,
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          reject(toSourceError(err, stderr, opts));
        },
      );
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function toSourceError(err: ExecFileException, stderr: string, opts: RunHelmOptions): SourceError {
  const secrets = opts.secrets ?? [];
  if (err.code === 'ENOENT') {
    return new SourceError(
      'RenderFailed',
      `the helm binary "${opts.helmBinary}" was not found: set KUBEOP_HELM_BINARY to its path`,
      { retryable: true },
    );
  }
  if (err.name === 'AbortError') {
    return new SourceError('RenderFailed', `${opts.what} was cancelled`, { retryable: true });
  }
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    const mib = Math.round((opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES) / 1024 / 1024);
    return new SourceError('SourceTooLarge', `${opts.what} produced more than ${mib} MiB of output`);
  }
  if (err.killed || err.signal === 'SIGKILL') {
    return new SourceError(
      opts.failureReason === 'SourceUnreachable' ? 'SourceUnreachable' : 'RenderFailed',
      `${opts.what} did not finish within ${formatDuration(opts.timeoutMs)}`,
      { retryable: true },
    );
  }
  const detail = trimStderr(redact(stderr, secrets));
  return new SourceError(
    opts.classify?.(stderr) ?? opts.failureReason ?? 'RenderFailed',
    `${opts.what} failed: ${detail || `exit code ${String(err.code)}`}`,
  );
}

/** helm prints one useful `Error: …` line plus, with some failures, usage text; keep the error. */
export function trimStderr(stderr: string, max = 1500): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('WARNING: '));
  const errorAt = lines.findIndex((l) => l.startsWith('Error:'));
  const kept = errorAt >= 0 ? lines.slice(errorAt) : lines;
  const text = kept
    .join('\n')
    .replace(/^Error:\s*/, '')
    .trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Math.round(ms / 100) / 10}s`;
}
