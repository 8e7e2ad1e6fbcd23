// The docs site's sidebar, derived from the folders under docs/: pages at the top level form the
// first group, each folder one more group, in the order below (folders not listed follow,
// alphabetically), so a page or a folder added later appears without editing the site's config.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface Page {
  /** Path under docs/, with forward slashes: `concepts/tenancy.md`. */
  path: string;
  /** The page's first `# ` heading (the file name when it has none). */
  title: string;
}
export interface SidebarItem {
  text: string;
  link?: string;
  items?: SidebarItem[];
  collapsed?: boolean;
}

/** Folder order in the sidebar; any other folder follows these, alphabetically. */
export const FOLDER_ORDER = ['concepts', 'operations', 'reference', 'security'];
const FOLDER_TITLES: Record<string, string> = {};

/** `concepts/tenancy.md` → `/concepts/tenancy`; `README.md` and `index.md` → their folder. */
export function pageLink(path: string): string {
  const noExt = path.replace(/\.md$/, '');
  return '/' + noExt.replace(/(^|\/)(README|index)$/, '$1');
}

function folderTitle(folder: string): string {
  return FOLDER_TITLES[folder] ?? folder.charAt(0).toUpperCase() + folder.slice(1).replace(/-/g, ' ');
}

/** Pure: one group per folder (top-level pages first), pages sorted by title, a folder's README first. */
export function buildSidebar(pages: readonly Page[]): SidebarItem[] {
  const groups = new Map<string, Page[]>();
  for (const page of pages) {
    const slash = page.path.indexOf('/');
    const folder = slash === -1 ? '' : page.path.slice(0, slash);
    groups.set(folder, [...(groups.get(folder) ?? []), page]);
  }
  const rank = (folder: string) => {
    if (folder === '') return -1;
    const i = FOLDER_ORDER.indexOf(folder);
    return i === -1 ? FOLDER_ORDER.length : i;
  };
  const folders = [...groups.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const isIndex = (p: Page) => /(^|\/)(README|index)\.md$/.test(p.path);
  return folders.map((folder) => {
    const items = [...(groups.get(folder) ?? [])]
      .sort((a, b) => Number(isIndex(b)) - Number(isIndex(a)) || a.title.localeCompare(b.title))
      .map((p) => ({ text: isIndex(p) && folder === '' ? 'Overview' : p.title, link: pageLink(p.path) }));
    return { text: folder === '' ? 'Start' : folderTitle(folder), items };
  });
}

/** The first `# ` heading outside fenced code, frontmatter `title:` first. */
export function pageTitle(markdown: string, fallback: string): string {
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(markdown);
  const fmTitle = fm?.[1] ? /^title:\s*(.+)$/m.exec(fm[1])?.[1] : undefined;
  if (fmTitle) return fmTitle.replace(/^['"]|['"]$/g, '');
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (!fenced && line.startsWith('# ')) return line.slice(2).replace(/`/g, '').trim();
  }
  return fallback;
}

/** Every Markdown page under `docsDir` (dot folders, `public/` and `node_modules/` excepted). */
export function listPages(docsDir: string): Page[] {
  const out: Page[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'public' || entry.name === 'node_modules') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md')) {
        const path = relative(docsDir, full).split(sep).join('/');
        out.push({ path, title: pageTitle(readFileSync(full, 'utf8'), entry.name.replace(/\.md$/, '')) });
      }
    }
  };
  walk(docsDir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
