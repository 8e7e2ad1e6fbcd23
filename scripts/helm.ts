// Where the `helm` binary is, for `npm run gen` (deploy/k8s) and the chart tests. Order:
// KUBEOP_HELM_BINARY, `helm` on PATH, then the local control-plane cache (hack/controlplane builds a
// pinned helm there; `npm run cluster -- up` runs that build).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function findHelm(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.KUBEOP_HELM_BINARY) return env.KUBEOP_HELM_BINARY;
  try {
    execFileSync('helm', ['version', '--short'], { stdio: 'ignore' });
    return 'helm';
  } catch {
    // not on PATH
  }
  const cache =
    env.KUBEOP_CONTROLPLANE_CACHE ??
    join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kubeop', 'controlplane');
  if (!existsSync(cache)) return undefined;
  const candidates = readdirSync(cache)
    .map((key) => join(cache, key, 'helm'))
    .filter((file) => existsSync(file))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0];
}

export function requireHelm(env: Record<string, string | undefined> = process.env): string {
  const helm = findHelm(env);
  if (!helm) {
    throw new Error(
      'helm not found: set KUBEOP_HELM_BINARY, put helm on PATH, or run `npm run cluster -- up` once (it builds the pinned helm)',
    );
  }
  return helm;
}
