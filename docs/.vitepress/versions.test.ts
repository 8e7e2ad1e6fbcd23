import { describe, expect, it } from 'vitest';
import { versionMenu } from './versions.ts';

const repo = 'https://github.com/o/r';

describe('docs version switcher', () => {
  it('without release tags shows the package version as the development version', () => {
    expect(versionMenu([], '0.1.0', repo)).toEqual({
      text: 'v0.1.0',
      items: [{ text: 'v0.1.0 (development)', link: '/' }],
    });
  });

  it('lists released tags newest first by semver, linking to their docs, ignoring non-semver tags', () => {
    const menu = versionMenu(
      ['v0.9.0', 'v0.10.0', 'v1.0.0-rc.1', 'vnext', 'release-1', 'v0.9.0'],
      '1.0.0',
      repo,
    );
    expect(menu.items).toEqual([
      { text: 'v1.0.0 (development)', link: '/' },
      { text: 'v1.0.0-rc.1', link: `${repo}/tree/v1.0.0-rc.1/docs` },
      { text: 'v0.10.0', link: `${repo}/tree/v0.10.0/docs` },
      { text: 'v0.9.0', link: `${repo}/tree/v0.9.0/docs` },
    ]);
  });

  it('when the current version is tagged, the site is that release and it is not listed twice', () => {
    const menu = versionMenu(['v0.1.0', 'v0.2.0'], '0.2.0', repo);
    expect(menu.items.map((i) => i.text)).toEqual(['v0.2.0 (this site)', 'v0.1.0']);
  });
});
