// Writes dist/build-info.json, read by src/platform/version.ts for `/version` and `kubeop version`.
// The commit comes from KUBEOP_BUILD_COMMIT (image builds without .git) or `git rev-parse HEAD`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import pkg from '../package.json' with { type: 'json' };

function gitCommit(): string {
  if (process.env.KUBEOP_BUILD_COMMIT) return process.env.KUBEOP_BUILD_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const info = { version: pkg.version, gitCommit: gitCommit(), buildDate: new Date().toISOString() };
writeFileSync(new URL('../dist/build-info.json', import.meta.url), JSON.stringify(info, null, 2) + '\n');
console.log(`build-info: ${JSON.stringify(info)}`);
