import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };
import { listPages, pageLink } from '../../../docs/.vitepress/sidebar.ts';
import { REPO_URL } from '../../../docs/.vitepress/site.ts';

// The docs site (`npm run docs:build`, VitePress over docs/) built into a temporary folder, as the
// Pages workflow builds it; then the same configuration on small fixture folders, to show that a dead
// link fails the build. Pages are read from docs/ as they are now, so pages added later are covered.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const vitepress = join(root, 'node_modules/vitepress/bin/vitepress.js');
const work = mkdtempSync(join(tmpdir(), 'kubeop-docs-'));
const outDir = join(work, 'site');

interface Result {
  code: number | null;
  output: string;
}
function build(dir: string, out: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [vitepress, 'build', dir, '--outDir', out],
      { cwd: root, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBEOP_DOCS_BASE: '/kubeOP/' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

/**
 * A folder built with the site's own configuration (docs/.vitepress/site.ts). VitePress keeps its
 * temporary bundle beside the configuration (`.vitepress/.temp`), so even the real docs are built
 * from a copy: this test never races a `docs:dev` or `docs:build` running on the repository.
 */
function siteFolder(name: string, repoRoot: string, pages: Record<string, string> | null): string {
  const dir = join(work, name);
  const docs = join(dir, 'docs');
  if (pages === null) {
    cpSync(join(root, 'docs'), docs, {
      recursive: true,
      filter: (src) => !/[/\\]\.vitepress[/\\](dist|cache|\.temp)([/\\]|$)/.test(src),
    });
  } else {
    mkdirSync(docs, { recursive: true });
    for (const [file, text] of Object.entries(pages)) writeFileSync(join(docs, file), text);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'fixture', version: '1.2.3', description: 'fixture' }),
    );
  }
  mkdirSync(join(docs, '.vitepress'), { recursive: true });
  // ESM config next to a module package, and the repository's node_modules for VitePress and Vue.
  writeFileSync(join(docs, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(
    join(docs, '.vitepress/config.ts'),
    `import { siteConfig } from ${JSON.stringify(join(root, 'docs/.vitepress/site.ts'))};\n` +
      `export default siteConfig(${JSON.stringify(docs)}, ${JSON.stringify(repoRoot)});\n`,
  );
  return docs;
}
function fixture(name: string, page: string): string {
  return siteFolder(name, join(work, name), {
    'README.md': '# Fixture\n\nSee [the page](page.md).\n',
    'page.md': page,
  });
}

const pages = listPages(join(root, 'docs'));
const html = (path: string) =>
  readFileSync(join(outDir, `${pageLink(path).replace(/\/$/, '/index').slice(1) || 'index'}.html`), 'utf8');
let result: Result;

beforeAll(async () => {
  result = await build(siteFolder('full', root, null), outDir);
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the docs site build', () => {
  it('succeeds over the whole docs/ folder', () => {
    expect(result.output).toContain('build complete');
    expect(result.code, result.output.slice(-3000)).toBe(0);
  });

  it('lists every page in sitemap.xml', () => {
    const sitemap = readFileSync(join(outDir, 'sitemap.xml'), 'utf8');
    const locs = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => new URL(m[1]!).pathname);
    expect(pages.length).toBeGreaterThan(20);
    for (const page of pages) expect(locs, page.path).toContain(`/kubeOP${pageLink(page.path)}`);
  });

  it('gives every page Open Graph and Twitter tags with its own title and a description', () => {
    for (const page of pages) {
      const doc = html(page.path);
      const meta = (key: string) =>
        new RegExp(`<meta (?:property|name)="${key}" content="([^"]*)"`).exec(doc)?.[1];
      expect(meta('og:title'), page.path).toContain(page.title.replace(/&/g, '&amp;').slice(0, 20));
      expect(meta('og:description')?.length, page.path).toBeGreaterThan(20);
      expect(meta('og:url'), page.path).toMatch(/^https:\/\//);
      expect(meta('twitter:card'), page.path).toBe('summary');
      expect(meta('twitter:title'), page.path).toBe(meta('og:title'));
    }
  });

  it('links every page to its source for editing, and shows the version menu', () => {
    for (const page of pages) {
      expect(html(page.path), page.path).toContain(`href="${REPO_URL}/edit/main/docs/${page.path}"`);
      expect(html(page.path), page.path).toContain(`v${pkg.version}`);
    }
  });

  it('has a local search index covering the pages, the generated references among them', () => {
    const chunks = readdirSync(join(outDir, 'assets/chunks'));
    const index = chunks.find((f) => f.startsWith('@localSearchIndex'));
    expect(index).toBeDefined();
    const text = readFileSync(join(outDir, 'assets/chunks', index!), 'utf8');
    for (const ref of ['reference/api', 'reference/crds', 'reference/configuration', 'security/kms']) {
      expect(text, ref).toContain(`/kubeOP/${ref}`);
    }
  });

  it('points links to repository files outside docs/ at the repository', () => {
    expect(html('security/kms.md')).toContain(`href="${REPO_URL}/blob/main/src/kms/open.ts"`);
    expect(html('security/kms.md')).toContain(`href="${REPO_URL}/tree/main/src/kms"`);
  });
});

describe('a dead link', () => {
  it('to a page fails the build', async () => {
    const docs = fixture('dead-page', '# Page\n\nGo to [nowhere](missing-page.md).\n');
    const r = await build(docs, join(work, 'dead-page-out'));
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/dead link/i);
    expect(r.output).toContain('missing-page');
  }, 300_000);

  it('to a repository file fails the build', async () => {
    const docs = fixture('dead-file', '# Page\n\nThe code is in [there](../src/no-such-file.ts).\n');
    const r = await build(docs, join(work, 'dead-file-out'));
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('no such file in the repository: src/no-such-file.ts');
  }, 300_000);

  it('is absent from a fixture that differs only in its link, which builds (the failures above are the links)', async () => {
    const docs = fixture('alive', '# Page\n\nBack to [the start](README.md).\n');
    const r = await build(docs, join(work, 'alive-out'));
    expect(r.code, r.output.slice(-2000)).toBe(0);
    expect(existsSync(join(work, 'alive-out/page.html'))).toBe(true);
  }, 300_000);
});
