import { describe, expect, it } from 'vitest';
import { buildSidebar, pageLink, pageTitle } from './sidebar.ts';

describe('docs sidebar', () => {
  it('groups pages by folder: top-level pages first, then the known folders in order, then the rest', () => {
    const sidebar = buildSidebar([
      { path: 'zeta/one.md', title: 'One' },
      { path: 'security/kms.md', title: 'KMS' },
      { path: 'getting-started.md', title: 'Getting started' },
      { path: 'concepts/tenancy.md', title: 'Tenancy' },
      { path: 'README.md', title: 'kubeOP documentation' },
      { path: 'alpha/two.md', title: 'Two' },
    ]);
    expect(sidebar.map((g) => g.text)).toEqual(['Start', 'Concepts', 'Security', 'Alpha', 'Zeta']);
    expect(sidebar[0]!.items).toEqual([
      { text: 'Overview', link: '/' },
      { text: 'Getting started', link: '/getting-started' },
    ]);
  });

  it('a page added to a new folder appears in a new group without configuration', () => {
    const before = buildSidebar([{ path: 'a.md', title: 'A' }]);
    const after = buildSidebar([
      { path: 'a.md', title: 'A' },
      { path: 'console/screens.md', title: 'Screens' },
    ]);
    expect(after.length).toBe(before.length + 1);
    expect(after[1]).toEqual({ text: 'Console', items: [{ text: 'Screens', link: '/console/screens' }] });
  });

  it('sorts a folder by title with its README first', () => {
    const [group] = buildSidebar([
      { path: 'ops/b.md', title: 'Beta' },
      { path: 'ops/a.md', title: 'Alpha' },
      { path: 'ops/README.md', title: 'Operations' },
    ]);
    expect(group!.items!.map((i) => i.link)).toEqual(['/ops/', '/ops/a', '/ops/b']);
  });

  it('links without the .md extension, folders for README and index', () => {
    expect(pageLink('concepts/tenancy.md')).toBe('/concepts/tenancy');
    expect(pageLink('README.md')).toBe('/');
    expect(pageLink('ops/index.md')).toBe('/ops/');
  });

  it("takes the title from frontmatter, else the first heading outside code, else the file's name", () => {
    expect(pageTitle('---\ntitle: "From FM"\n---\n# Heading\n', 'f')).toBe('From FM');
    expect(pageTitle('```sh\n# a comment\n```\n\n# The `kubeop` CLI\n', 'f')).toBe('The kubeop CLI');
    expect(pageTitle('no heading', 'fallback')).toBe('fallback');
  });
});
