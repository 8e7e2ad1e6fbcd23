// The docs site's configuration, as a function of the folder it serves, so the tests can build a
// small fixture folder with exactly the same configuration (test/integration/repo/docs-site.test.ts).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig, type UserConfig } from 'vitepress';
import { pageDescription, socialTags } from './meta.ts';
import { repoLinksPlugin } from './repo-links.ts';
import { buildSidebar, listPages } from './sidebar.ts';
import { gitTags, versionMenu } from './versions.ts';

export const REPO_URL = 'https://github.com/vaheed/kubeOP';
export const BRANCH = 'main';
/** Where GitHub Pages serves the site; KUBEOP_DOCS_BASE overrides (a fork, a custom domain: `/`). */
export const BASE = process.env.KUBEOP_DOCS_BASE ?? '/kubeOP/';
export const SITE_URL = process.env.KUBEOP_DOCS_URL ?? 'https://vaheed.github.io/kubeOP/';

export function siteConfig(docsDir: string, repoRoot = resolve(docsDir, '..')): UserConfig {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
    description: string;
  };
  const siteUrl = SITE_URL.endsWith('/') ? SITE_URL : `${SITE_URL}/`;
  return defineConfig({
    title: 'kubeOP',
    description: pkg.description,
    lang: 'en-US',
    base: BASE,
    cleanUrls: true,
    lastUpdated: false,
    // Dead links fail the build (VitePress' default, stated here so nobody relaxes it by accident).
    ignoreDeadLinks: false,
    // docs/README.md is the landing page; GitHub shows the same file for the docs/ folder.
    rewrites: { 'README.md': 'index.md' },
    srcExclude: ['**/node_modules/**'],
    sitemap: { hostname: siteUrl },
    markdown: {
      config: (md) => repoLinksPlugin(md, { repoRoot, repoUrl: REPO_URL, branch: BRANCH }),
    },
    transformPageData(pageData) {
      const source = readFileSync(join(docsDir, pageData.filePath), 'utf8');
      const description = (pageData.frontmatter.description as string | undefined) ?? pageDescription(source);
      return { description: description || pkg.description };
    },
    transformHead({ pageData, title }) {
      const path = pageData.relativePath.replace(/(^|\/)index\.md$/, '$1').replace(/\.md$/, '');
      return socialTags({
        title,
        description: pageData.description || pkg.description,
        url: new URL(path, siteUrl).href,
        siteName: 'kubeOP',
      });
    },
    themeConfig: {
      nav: [
        { text: 'Guide', link: '/getting-started' },
        { text: 'Reference', link: '/reference/api' },
        versionMenu(gitTags(repoRoot), pkg.version, REPO_URL),
      ],
      sidebar: buildSidebar(listPages(docsDir)),
      search: { provider: 'local' },
      editLink: { pattern: `${REPO_URL}/edit/${BRANCH}/docs/:path`, text: 'Edit this page on GitHub' },
      socialLinks: [{ icon: 'github', link: REPO_URL }],
      outline: { level: [2, 3] },
      footer: { message: 'MIT licensed' },
    },
  });
}
