// The commands the documentation shows, as scenarios the docs runner (test/e2e/docs.test.ts) executes
// and the repository check (test/integration/repo/doc-commands.test.ts) inspects. The format is
// HELPERS "Docs command format":
//
// - every fenced block whose language is `bash`, `sh`, `shell` or `console` in README.md and
//   docs/**/*.md is a shown command; a doc's blocks run top to bottom in one `bash` process;
// - `<!-- doc-test: timeout=300 -->` anywhere in a doc sets its options (`timeout` in seconds,
//   `cluster=fresh` for a cluster of its own instead of the shared e2e cluster);
// - `<!-- doc-test: skip reason="..." -->` skips the next block (only for what this machine cannot
//   run at all, such as `docker build`).
//
// Everything here is pure except `listDocFiles`, which reads the directory tree.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Fence languages whose blocks the runner executes. */
export const RUNNABLE_LANGUAGES: readonly string[] = ['bash', 'sh', 'shell', 'console'];

/**
 * Fence languages that are not commands. Any other language is refused by the repository check, so a
 * shell block cannot escape the runner under an alias (`shell-session`, `zsh`, `Bash`).
 */
export const OTHER_LANGUAGES: readonly string[] = [
  '',
  'text',
  'json',
  'yaml',
  'ts',
  'typescript',
  'js',
  'javascript',
  'sql',
  'promql',
  'dockerfile',
  'ini',
  'toml',
  'diff',
  'http',
  'go',
  'mermaid',
];

export const DEFAULT_TIMEOUT_SECONDS = 180;

export interface Fence {
  /** 1-based line of the opening fence. */
  line: number;
  /** First word of the info string, as written (case kept). */
  language: string;
  /** The block's content, with the fence's indentation removed. */
  text: string;
}

export interface DocBlock extends Fence {
  /** Set when a `skip` marker precedes the block: the reason given. */
  skip?: string;
}

export interface DocOptions {
  timeoutSeconds: number;
  /** `fresh`: the runner starts a cluster for this doc alone (KUBECONFIG points at it). */
  cluster: 'shared' | 'fresh';
}

export interface DocScenario {
  /** Path relative to the repository root, e.g. `docs/operations/install.md`. */
  file: string;
  options: DocOptions;
  /** Runnable blocks in document order, skipped ones included (marked). */
  blocks: DocBlock[];
  /** Every fence of the doc, runnable or not. */
  fences: Fence[];
  /** Malformed markers and the like; the repository check requires none. */
  problems: string[];
}

const FENCE_OPEN = /^( *)(`{3,}|~{3,})(.*)$/;
const MARKER = /<!--\s*doc-test:(.*?)-->/g;

/** Parses `key=value key="quoted value" flag` into pairs; a flag's value is ''. */
export function parseMarkerFields(body: string): Array<[string, string]> | string {
  const fields: Array<[string, string]> = [];
  const re = /\s*([a-z][a-z-]*)(?:=(?:"([^"]*)"|([^\s"]+)))?/gy;
  let rest = body.trim();
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < rest.length && (m = re.exec(rest)) !== null) {
    fields.push([m[1]!, m[2] ?? m[3] ?? '']);
    consumed = re.lastIndex;
  }
  rest = rest.slice(consumed).trim();
  if (rest) return `cannot read "${rest}" in the doc-test marker`;
  return fields;
}

/** Splits Markdown into fences (with their lines) and the doc-test markers outside fences. */
export function scanMarkdown(markdown: string): {
  fences: Fence[];
  markers: Array<{ line: number; body: string }>;
  problems: string[];
} {
  const lines = markdown.split('\n');
  const fences: Fence[] = [];
  const markers: Array<{ line: number; body: string }> = [];
  const problems: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (open && !(open[2]!.startsWith('`') && open[3]!.includes('`'))) {
      const indent = open[1]!.length;
      const fence = open[2]!;
      const language = open[3]!.trim().split(/\s+/)[0] ?? '';
      const close = new RegExp(`^ *${fence[0]}{${fence.length},}\\s*$`);
      const body: string[] = [];
      let j = i + 1;
      while (j < lines.length && !close.test(lines[j]!)) {
        body.push(lines[j]!.replace(new RegExp(`^ {0,${indent}}`), ''));
        j++;
      }
      if (j >= lines.length) problems.push(`line ${i + 1}: the fence is never closed`);
      fences.push({ line: i + 1, language, text: body.join('\n') });
      i = j + 1;
      continue;
    }
    for (const m of lines[i]!.matchAll(MARKER)) markers.push({ line: i + 1, body: m[1]! });
    i++;
  }
  return { fences, markers, problems };
}

/** The scenario of one Markdown file. */
export function parseDoc(file: string, markdown: string): DocScenario {
  const { fences, markers, problems } = scanMarkdown(markdown);
  const options: DocOptions = { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, cluster: 'shared' };
  const skips = new Map<number, string>(); // fence line → reason
  for (const marker of markers) {
    const fields = parseMarkerFields(marker.body);
    if (typeof fields === 'string') {
      problems.push(`line ${marker.line}: ${fields}`);
      continue;
    }
    const keys = fields.map(([k]) => k);
    if (keys.includes('skip')) {
      const reason = fields.find(([k]) => k === 'reason')?.[1]?.trim();
      const extra = keys.filter((k) => k !== 'skip' && k !== 'reason');
      if (extra.length) problems.push(`line ${marker.line}: skip takes only reason, not ${extra.join(', ')}`);
      if (!reason) problems.push(`line ${marker.line}: skip without reason="..."`);
      const next = fences.find((f) => f.line > marker.line);
      if (!next || !RUNNABLE_LANGUAGES.includes(next.language)) {
        problems.push(`line ${marker.line}: skip is not followed by a bash/sh/shell/console block`);
      } else if (reason) {
        skips.set(next.line, reason);
      }
      continue;
    }
    for (const [key, value] of fields) {
      if (key === 'timeout') {
        const seconds = Number(value);
        if (!/^\d+$/.test(value) || seconds < 1 || seconds > 3600) {
          problems.push(`line ${marker.line}: timeout must be whole seconds from 1 to 3600, got "${value}"`);
        } else options.timeoutSeconds = seconds;
      } else if (key === 'cluster') {
        if (value === 'fresh' || value === 'shared') options.cluster = value;
        else problems.push(`line ${marker.line}: cluster must be fresh or shared, got "${value}"`);
      } else if (key === 'reason') {
        problems.push(`line ${marker.line}: reason without skip`);
      } else {
        problems.push(`line ${marker.line}: unknown doc-test option "${key}"`);
      }
    }
  }
  const blocks = fences
    .filter((f) => RUNNABLE_LANGUAGES.includes(f.language))
    .map((f): DocBlock => (skips.has(f.line) ? { ...f, skip: skips.get(f.line)! } : { ...f }));
  return { file, options, blocks, fences, problems };
}

/**
 * The commands of a block. `console` blocks may show a session: when lines start with a `$ ` prompt,
 * those lines (and their `\` continuations) are the commands and the rest is output, not run.
 */
export function blockCommands(block: Fence): string {
  if (block.language !== 'console') return block.text;
  const lines = block.text.split('\n');
  if (!lines.some((l) => l.startsWith('$ '))) return block.text;
  const out: string[] = [];
  let continued = false;
  for (const line of lines) {
    if (line.startsWith('$ ')) out.push(line.slice(2));
    else if (continued) out.push(line);
    else continue;
    continued = line.endsWith('\\');
  }
  return out.join('\n');
}

const DEFAULT_EXPANSION = /\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=][^}]*\}/g;
const HARD_CODED_PORT = /[\w\].-]+:8080\b/;
const LOOKS_LIKE_COMMAND = /^\s*(\$ )?(npm|npx|node|kubectl|helm|curl|git|export|docker|bash|sh|make|go)\s/;

/** `# comments` removed (a `#` at the start of a word), so prose in comments may name defaults. */
function withoutComments(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '$1'))
    .join('\n');
}

/**
 * What the repository check refuses in one doc: marker problems, fence languages outside both lists,
 * untagged blocks that look like commands, and blocks that call the default port 8080 directly
 * instead of `$KUBEOP_URL` (a `${VAR:=...8080}` default is fine).
 */
export function checkDoc(scenario: DocScenario): string[] {
  const problems = scenario.problems.map((p) => `${scenario.file}: ${p}`);
  for (const fence of scenario.fences) {
    const where = `${scenario.file}:${fence.line}`;
    const runnable = RUNNABLE_LANGUAGES.includes(fence.language);
    if (!runnable && !OTHER_LANGUAGES.includes(fence.language)) {
      problems.push(
        `${where}: fence language "${fence.language}" is neither run (${RUNNABLE_LANGUAGES.join(', ')}) nor known as non-command; use bash for commands`,
      );
    }
    if (
      fence.language === '' &&
      LOOKS_LIKE_COMMAND.test(fence.text.split('\n').find((l) => l.trim()) ?? '')
    ) {
      problems.push(`${where}: an untagged block that looks like commands; tag it bash so it runs`);
    }
    if (runnable) {
      const code = withoutComments(blockCommands(fence)).replace(DEFAULT_EXPANSION, '');
      const port = HARD_CODED_PORT.exec(code);
      if (port) {
        problems.push(
          `${where}: "${port[0]}" hard-coded; use "$KUBEOP_URL" / "$KUBEOP_HTTP_ADDR" (default with \${KUBEOP_URL:=http://127.0.0.1:8080})`,
        );
      }
    }
  }
  return problems;
}

/** README.md and every docs/**\/*.md, relative to `root`, in the order the runner runs them. */
export function listDocFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(relative(root, path));
    }
  };
  walk(join(root, 'docs'));
  return ['README.md', ...found.sort()];
}

/** Line in the output that opens a block; the runner finds the failing block by the last one. */
export const BLOCK_MARKER = '### doc-test block at line ';
export const DONE_MARKER = '### doc-test: all blocks done';

/**
 * The bash script of a scenario: strict mode, then each block (skipped ones left out) after a marker
 * line naming its line number, then a final marker. Blocks share the one shell, so variables,
 * `cd` and background jobs carry over.
 */
export function scenarioScript(scenario: DocScenario): string {
  const parts = ['set -euo pipefail', ''];
  for (const block of scenario.blocks) {
    if (block.skip !== undefined) continue;
    parts.push(`printf '\\n%s (at %ss)\\n' '${BLOCK_MARKER}${block.line}' "$SECONDS"`);
    parts.push(blockCommands(block));
    parts.push('');
  }
  parts.push(`printf '\\n%s (at %ss)\\n' '${DONE_MARKER}' "$SECONDS"`, '');
  return parts.join('\n');
}

/** Seconds since the start at which each block began, by line, and when all were done. */
export function blockTimes(output: string): { started: Map<number, number>; done?: number } {
  const started = new Map<number, number>();
  for (const m of output.matchAll(/^### doc-test block at line (\d+) \(at (\d+)s\)$/gm)) {
    started.set(Number(m[1]), Number(m[2]));
  }
  const done = /^### doc-test: all blocks done \(at (\d+)s\)$/m.exec(output)?.[1];
  return done === undefined ? { started } : { started, done: Number(done) };
}

/** The line number of the last block the output shows as started, or undefined before any. */
export function lastStartedBlock(output: string): number | undefined {
  const at = output.lastIndexOf(BLOCK_MARKER);
  if (at < 0) return undefined;
  return Number(/^\d+/.exec(output.slice(at + BLOCK_MARKER.length))?.[0]);
}
