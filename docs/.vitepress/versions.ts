// The version switcher: the released versions come from the repository's `v*` tags at build time;
// each links to that tag's docs/ in the repository, the site itself being the current branch.
import { execFileSync } from 'node:child_process';
import semver from 'semver';

export interface VersionMenu {
  text: string;
  items: { text: string; link: string }[];
}

/**
 * Pure: `current` (package.json's version) labels the menu; valid semver tags follow, newest
 * first, prereleases after their release's peers as semver orders them, other tags ignored.
 */
export function versionMenu(tags: readonly string[], current: string, repoUrl: string): VersionMenu {
  const released = [...new Set(tags)]
    .filter((t) => /^v/.test(t) && semver.valid(t) !== null)
    .sort((a, b) => semver.rcompare(a, b));
  const currentTag = `v${current}`;
  const items = [
    {
      text: released.includes(currentTag) ? `${currentTag} (this site)` : `${currentTag} (development)`,
      link: '/',
    },
    ...released.filter((t) => t !== currentTag).map((t) => ({ text: t, link: `${repoUrl}/tree/${t}/docs` })),
  ];
  return { text: currentTag, items };
}

/** The repository's `v*` tags; none when git or the repository is missing (a source tarball). */
export function gitTags(cwd: string): string[] {
  try {
    return execFileSync('git', ['tag', '--list', 'v*'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .map((t) => t.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}
