import { describe, expect, it } from 'vitest';
import { pageDescription, socialTags } from './meta.ts';
import { repoLinkTarget } from './repo-links.ts';

describe('docs page metadata', () => {
  it('describes a page by its first prose paragraph, Markdown stripped', () => {
    const md =
      '# Title\n\n<!-- doc-test: skip -->\n\n```sh\n# not this\n\nnor this\n```\n\nThe [manager](x.md) stores `secrets` **sealed**.\n\nSecond.';
    expect(pageDescription(md)).toBe('The manager stores secrets sealed.');
  });

  it('prefers a frontmatter description and truncates long paragraphs on a word boundary', () => {
    expect(pageDescription('---\ndescription: Given\n---\n# T\n\nBody')).toBe('Given');
    const long = pageDescription(`# T\n\n${'word '.repeat(100)}`, 50);
    expect(long.length).toBeLessThanOrEqual(50);
    expect(long.endsWith('word…')).toBe(true);
  });

  it('emits Open Graph and Twitter card tags', () => {
    const tags = socialTags({ title: 'T', description: 'D', url: 'https://x/y', siteName: 'S' });
    const get = (k: string) => tags.find(([, a]) => a.property === k || a.name === k)?.[1].content;
    expect([get('og:title'), get('og:description'), get('og:url'), get('twitter:card')]).toEqual([
      'T',
      'D',
      'https://x/y',
      'summary',
    ]);
  });
});

describe('docs links to repository files', () => {
  it('resolves links that leave docs/ to repository paths, keeping the anchor', () => {
    expect(repoLinkTarget('../../src/kms/open.ts#L3', 'security/kms.md')).toEqual({
      path: 'src/kms/open.ts',
      hash: '#L3',
    });
    expect(repoLinkTarget('../deploy/crds/', 'README.md')).toEqual({ path: 'deploy/crds', hash: '' });
    expect(repoLinkTarget('../.vitepress/site.ts', 'operations/docs-site.md')).toEqual({
      path: 'docs/.vitepress/site.ts',
      hash: '',
    });
  });

  it('leaves links between pages, anchors, absolute and external links, and links out of the repository to VitePress', () => {
    for (const href of [
      '../admission.md#certificates',
      'tenancy.md',
      '#x',
      '/a',
      'https://e.org',
      'mailto:a@b',
      '../../../outside',
    ]) {
      expect(repoLinkTarget(href, 'concepts/delivery.md'), href).toBeNull();
    }
  });
});
