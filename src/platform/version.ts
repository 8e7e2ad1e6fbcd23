import { readFileSync } from 'node:fs';
import pkg from '../../package.json' with { type: 'json' };

export interface VersionInfo {
  service: string;
  version: string;
  gitCommit: string;
  buildDate: string;
}

export type BuildInfo = Omit<VersionInfo, 'service'>;

/**
 * Build information written by `npm run build` (scripts/write-build-info.ts) next to the compiled code.
 * A development checkout has no build: the version then says `-dev` and commit and date say
 * `unknown` rather than guessing.
 */
export function readBuildInfo(file: URL = new URL('../build-info.json', import.meta.url)): BuildInfo {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<BuildInfo>;
    if (parsed.version && parsed.gitCommit && parsed.buildDate) {
      return { version: parsed.version, gitCommit: parsed.gitCommit, buildDate: parsed.buildDate };
    }
  } catch {
    // fall through to the development fallback
  }
  return { version: `${pkg.version}-dev`, gitCommit: 'unknown', buildDate: 'unknown' };
}
