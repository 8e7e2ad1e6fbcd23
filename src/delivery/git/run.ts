import { spawn } from 'node:child_process';
import { redact } from '../helm/redact.ts';
import { SourceError, type SourceFailureReason } from '../source.ts';

export interface RunOptions {
  binary: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /** What is being done, for messages: `git ls-remote`, `kubectl kustomize`. */
  what: string;
  /** Values never to show (passwords, usernames, temp paths), replaced before any message is built. */
  secrets: string[];
  /** The reason a failure maps to when its stderr says nothing more specific. */
  defaultReason: SourceFailureReason;
  /** Text to rewrite in stderr before it is shown: a checkout directory → the repository path. */
  rewrite?: Record<string, string>;
}

type Stop = 'timeout' | 'abort' | 'output';

const MAX_STDERR = 64 * 1024;

/**
 * Runs a binary without a shell and resolves with its stdout; every failure is a SourceError.
 * The child leads its own process group and a timeout, an abort or too much output kills the whole
 * group: `git fetch` works through helpers (git-remote-https, index-pack, ssh) that would otherwise
 * outlive it and keep writing into the cache.
 */
export function run(opts: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const maxOutput = opts.maxOutputBytes ?? 16 * 1024 * 1024;
    const child = spawn(opts.binary, opts.args, {
      env: opts.env,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let stopped: Stop | undefined;
    const stop = (why: Stop) => {
      stopped ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
    const onAbort = () => stop('abort');
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.stdout.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > maxOutput) stop('output');
      else stdout.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += d.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      done();
      reject(
        err.code === 'ENOENT'
          ? new SourceError(
              'RenderFailed',
              `the ${opts.what.split(' ')[0]} binary "${opts.binary}" was not found`,
              {
                retryable: true,
              },
            )
          : new SourceError(opts.defaultReason, `${opts.what} could not start: ${err.message}`, {
              cause: err,
            }),
      );
    });
    child.on('close', (code) => {
      done();
      if (stopped) reject(stoppedError(stopped, opts));
      else if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(toSourceError(code, stderr, opts));
    });
  });
}

function stoppedError(why: Stop, opts: RunOptions): SourceError {
  switch (why) {
    case 'abort':
      return new SourceError('SourceUnreachable', `${opts.what} was cancelled`);
    case 'output':
      return new SourceError('SourceTooLarge', `${opts.what} produced more output than allowed`);
    default:
      return new SourceError(
        opts.defaultReason === 'RenderFailed' ? 'RenderFailed' : 'SourceUnreachable',
        `${opts.what} did not finish within ${Math.round(opts.timeoutMs / 1000)}s`,
        { retryable: true },
      );
  }
}

function toSourceError(code: number | null, stderr: string, opts: RunOptions): SourceError {
  let text = stderr;
  for (const [from, to] of Object.entries(opts.rewrite ?? {})) text = text.split(from).join(to);
  const detail = lastLines(redact(text, opts.secrets));
  const { reason, retryable } = classifyGitFailure(stderr, opts.defaultReason);
  return new SourceError(reason, `${opts.what} failed: ${detail || `exit code ${String(code)}`}`, {
    retryable,
  });
}

/** The meaningful end of a tool's stderr, bounded for a status condition. */
export function lastLines(stderr: string, max = 600): string {
  const text = stderr
    .split('\n')
    // klog's prefix (`E1126 21:47:58.773573   27050 run.go:72] `) on kubectl's errors is noise.
    .map((l) => l.trim().replace(/^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^\]]+\] /, ''))
    .filter((l) => l !== '' && !/^(hint|warning):/i.test(l))
    .slice(-4)
    .join('; ');
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/**
 * Maps git's stderr to a failure reason. Git has no machine-readable errors; these are the messages
 * of git 2.x with LC_ALL=C. Unknown text keeps the caller's default.
 */
export function classifyGitFailure(
  stderr: string,
  fallback: SourceFailureReason,
): { reason: SourceFailureReason; retryable: boolean } {
  const s = stderr.toLowerCase();
  if (
    /authentication failed|could not read (username|password)|permission denied \(publickey|terminal prompts disabled|the requested url returned error: 40[13]|invalid username or password/.test(
      s,
    )
  ) {
    return { reason: 'CredentialsMissing', retryable: false };
  }
  if (/host key verification failed|remote host identification has changed/.test(s)) {
    return { reason: 'SourceUnreachable', retryable: false };
  }
  if (
    /couldn't find remote ref|not our ref|no such remote ref|unadvertised object|invalid refspec|not a valid object name|bad revision|unknown revision|needed a single revision/.test(
      s,
    )
  ) {
    return { reason: 'RevisionNotFound', retryable: false };
  }
  if (/transport '.*' not allowed|protocol '.*' is not supported/.test(s)) {
    return { reason: 'SourceUnreachable', retryable: false };
  }
  if (
    /could not resolve host|failed to connect|connection refused|connection timed out|timed out|unable to access|could not read from remote repository|repository .* not found|the requested url returned error|early eof|connection reset|operation too slow|does not appear to be a git repository/.test(
      s,
    )
  ) {
    return { reason: 'SourceUnreachable', retryable: true };
  }
  return { reason: fallback, retryable: fallback === 'SourceUnreachable' };
}
