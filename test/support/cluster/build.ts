import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const buildScript = fileURLToPath(new URL('../../../hack/controlplane/build.sh', import.meta.url));

export class GoMissingError extends Error {
  constructor() {
    super('the `go` command is not on PATH: the local control plane is built from Go modules (Go 1.26)');
    this.name = 'GoMissingError';
  }
}

/** True when the Go toolchain that builds the control plane is available. */
export function hasGo(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('go', ['version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * Builds (or finds in the cache) the control-plane binaries and returns their directory. Progress
 * from the build script is passed through, since a cold build takes minutes.
 */
export async function buildControlPlane(
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Promise<string> {
  if (!(await hasGo())) throw new GoMissingError();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      for (const line of d.toString().split('\n').filter(Boolean)) {
        if (!line.endsWith(' cached')) log(line);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const dir = out.trim().split('\n').at(-1);
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`hack/controlplane/build.sh exited with ${code}\n${err.slice(-4000)}`));
    });
  });
}
