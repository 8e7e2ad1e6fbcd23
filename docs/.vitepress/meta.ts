// Per-page metadata for link previews: a description taken from the page itself (frontmatter
// `description:`, else its first paragraph) and the Open Graph and Twitter tags built from it.

/** Pure: the first prose paragraph after the title, Markdown stripped, at most `max` characters. */
export function pageDescription(markdown: string, max = 200): string {
  const body = markdown.replace(/^---\n[\s\S]*?\n---\n/, '').replace(/<!--[\s\S]*?-->/g, '');
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(markdown)?.[1];
  const fmDescription = fm ? /^description:\s*(.+)$/m.exec(fm)?.[1] : undefined;
  if (fmDescription) return fmDescription.replace(/^['"]|['"]$/g, '');
  const paragraphs = body.split(/\n\s*\n/);
  let fenced = false;
  for (const raw of paragraphs) {
    const p = raw.trim();
    const fences = (p.match(/^(```|~~~)/gm) ?? []).length;
    if (fenced || fences > 0) {
      if (fences % 2 === 1) fenced = !fenced;
      continue;
    }
    if (!p || /^(#|\||-|\*|>|<|\d+\.|!\[)/.test(p)) continue;
    const text = p
      .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*_]/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (!text) continue;
    return text.length <= max ? text : text.slice(0, max - 1).replace(/\s+\S*$/, '') + '…';
  }
  return '';
}

export type HeadTag = [string, Record<string, string>];

/** Open Graph and Twitter card tags for one page. */
export function socialTags(page: {
  title: string;
  description: string;
  url: string;
  siteName: string;
}): HeadTag[] {
  return [
    ['meta', { property: 'og:type', content: 'website' }],
    ['meta', { property: 'og:site_name', content: page.siteName }],
    ['meta', { property: 'og:title', content: page.title }],
    ['meta', { property: 'og:description', content: page.description }],
    ['meta', { property: 'og:url', content: page.url }],
    ['meta', { name: 'twitter:card', content: 'summary' }],
    ['meta', { name: 'twitter:title', content: page.title }],
    ['meta', { name: 'twitter:description', content: page.description }],
  ];
}
