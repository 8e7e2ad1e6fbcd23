import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real executable, run as a child process the way an operator runs it. */
export const kubeopBin = fileURLToPath(new URL('../../bin/kubeop.js', import.meta.url));

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

/** Runs `kubeop <args>` to completion. */
export function runKubeop(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kubeopBin, ...args], { env: baseEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubeop ${args.join(' ')} did not finish in ${timeoutMs}ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Started {
  child: ChildProcess;
  url: string;
  /** Every JSON log line so far. */
  logs: () => Array<Record<string, unknown>>;
  stderr: () => string;
  /** Sends the signal and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Starts a component and resolves once it logs its listening address. */
export function startKubeop(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kubeopBin, ...args], { env: baseEnv(env) });
    const lines: Array<Record<string, unknown>> = [];
    let buffer = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubeop ${args.join(' ')} did not start in ${timeoutMs}ms\n${buffer}\n${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          lines.push(parsed);
          if (typeof parsed.address === 'string' && String(parsed.msg).includes('listening on')) {
            clearTimeout(timer);
            resolve({
              child,
              url: `http://${parsed.address}`,
              logs: () => lines,
              stderr: () => stderr,
              stop: (signal = 'SIGTERM') => {
                child.kill(signal);
                return exited;
              },
            });
          }
        } catch {
          // not a JSON line
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kubeop ${args.join(' ')} exited with ${code} before listening\n${stderr}`));
    });
  });
}
