// Links from a docs page to a file of the repository outside docs/ (`../../src/kms/open.ts`) work
// on GitHub's own rendering of the Markdown; on the site they become links to that file in the
// repository. A link to a repository file that does not exist fails the build, as VitePress'
// own dead-link check does for links between pages.
import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { MarkdownRenderer } from 'vitepress';

/**
 * Pure: where a relative link from `page` (a path under docs/) points. `null` for links the site
 * resolves itself (absolute, external, anchors, and anything inside docs/).
 */
export function repoLinkTarget(
  href: string,
  page: string,
  docsDir: string,
  repoRoot: string,
): { path: string; hash: string } | null {
  if (!href || /^([a-z][a-z0-9+.-]*:|#|\/)/i.test(href)) return null;
  const [pathPart = '', ...rest] = href.split('#');
  const target = resolve(docsDir, dirname(page), decodeURI(pathPart));
  const fromDocs = relative(docsDir, target);
  if (!fromDocs.startsWith('..')) return null;
  const fromRoot = relative(repoRoot, target);
  if (fromRoot.startsWith('..')) return null;
  return { path: fromRoot.split(sep).join('/'), hash: rest.length ? `#${rest.join('#')}` : '' };
}

export function repoLinksPlugin(
  md: MarkdownRenderer,
  opts: { docsDir: string; repoRoot: string; repoUrl: string; branch: string },
): void {
  const original = md.renderer.rules.link_open;
  md.renderer.rules.link_open = (tokens, idx, options, env: { relativePath?: string }, self) => {
    const token = tokens[idx]!;
    const href = token.attrGet('href');
    const page = env.relativePath ?? '';
    const target = href ? repoLinkTarget(href, page, opts.docsDir, opts.repoRoot) : null;
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
