// Links from a docs page to a file of the repository outside docs/ (`../../src/kms/open.ts`) work
// on GitHub's own rendering of the Markdown; on the site they become links to that file in the
// repository. A link to a repository file that does not exist fails the build, as VitePress'
// own dead-link check does for links between pages.
import { existsSync, statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import type { MarkdownRenderer } from 'vitepress';

/**
 * Pure: the repository path a relative link from `page` (a path under docs/) points to, when it
 * leaves the site: outside docs/, or into a dot folder of it (`docs/.vitepress/`). `null` for links
 * the site resolves itself (absolute, external, anchors, pages and assets inside docs/) and for
 * links that leave the repository (VitePress reports those as dead).
 */
export function repoLinkTarget(href: string, page: string): { path: string; hash: string } | null {
  if (!href || /^([a-z][a-z0-9+.-]*:|#|\/)/i.test(href)) return null;
  const [pathPart = '', ...rest] = href.split('#');
  const path = posix
    .normalize(posix.join('docs', posix.dirname(page), decodeURI(pathPart)))
    .replace(/\/$/, '');
  if (path === '..' || path.startsWith('../')) return null;
  const inDocs = path === 'docs' || path.startsWith('docs/');
  if (inDocs && !path.split('/').some((segment) => segment.startsWith('.'))) return null;
  return { path, hash: rest.length ? `#${rest.join('#')}` : '' };
}

export function repoLinksPlugin(
  md: MarkdownRenderer,
  opts: { repoRoot: string; repoUrl: string; branch: string },
): void {
  const original = md.renderer.rules.link_open;
  md.renderer.rules.link_open = (tokens, idx, options, env: { relativePath?: string }, self) => {
    const token = tokens[idx]!;
    const href = token.attrGet('href');
    const page = env.relativePath ?? '';
    const target = href ? repoLinkTarget(href, page) : null;
    if (target) {
      const full = resolve(opts.repoRoot, target.path);
      if (!existsSync(full)) {
        throw new Error(
          `dead link in docs/${page}: ${href} (no such file in the repository: ${target.path})`,
        );
      }
      const kind = statSync(full).isDirectory() ? 'tree' : 'blob';
      token.attrSet('href', `${opts.repoUrl}/${kind}/${opts.branch}/${target.path}${target.hash}`);
    }
    return original ? original(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };
}
