import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { KubeObject } from '../../schemas/kube-object.ts';
import { parseManifests } from '../helm/manifests.ts';
import { SourceError } from '../source.ts';
import { run } from './run.ts';

export interface RenderOptions {
  kubectlBinary: string;
  /** Renders a chart directory (the helm source's `helm template` runner). */
  helmTemplate?: (chartDir: string) => Promise<KubeObject[]>;
  timeoutMs: number;
  env: Record<string, string>;
  /** Strings to scrub from messages (the checkout directory, secret values). */
  secrets: string[];
  signal?: AbortSignal;
}

export type RenderKind = 'kustomize' | 'helm' | 'plain';

const kustomizationFiles = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const manifestFile = /\.(ya?ml|json)$/i;

/** `deploy/app/`, `./deploy/app` and `/deploy/app` all mean `deploy/app`; `''` is the root. */
export function normalizeRepoPath(path: string | undefined): string {
  const p = posix.normalize(`/${path ?? ''}`).replace(/^\/+|\/+$/g, '');
  if (p.split('/').includes('..'))
    throw new SourceError('InvalidManifests', 'git.path must stay inside the repository');
  return p === '.' ? '' : p;
}

/** Which renderer a directory's files call for: a kustomization wins over a chart, then plain files. */
export function renderKind(fileNames: readonly string[]): RenderKind {
  if (fileNames.some((f) => kustomizationFiles.includes(f))) return 'kustomize';
  if (fileNames.includes('Chart.yaml')) return 'helm';
  return 'plain';
}

/**
 * Renders `path` of a checked-out repository into objects:
 * - a kustomization (`kustomization.yaml`) → `kubectl kustomize` (bases elsewhere in the repository
 *   work; remote bases are fetched by kustomize itself, without the App's credentials);
 * - a chart (`Chart.yaml`) → `helm template` with the chart's own values;
 * - otherwise every `*.yaml`, `*.yml` and `*.json` file directly in the directory (not in
 *   subdirectories), in file-name order, each a multi-document YAML stream.
 * A directory that yields no object at all is InvalidManifests: an empty render would prune every
 * object of the App, which is far more often a mistake (wrong path, files moved) than the intent.
 */
export async function renderDirectory(
  root: string,
  path: string,
  opts: RenderOptions,
): Promise<KubeObject[]> {
  const dir = join(root, path);
  const shown = path === '' ? 'the repository root' : `"${path}"`;
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir)
    throw new SourceError('InvalidManifests', `git.path ${shown} is not a directory in the repository`);
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isFile()).map((e) => e.name);
  let objects: KubeObject[];
  switch (renderKind(names)) {
    case 'kustomize':
      objects = parseManifests(await kustomize(root, dir, opts), `kustomize output of ${shown}`);
      break;
    case 'helm':
      if (!opts.helmTemplate)
        throw new SourceError('RenderFailed', `${shown} holds a Helm chart, but helm is not configured`);
      objects = await opts.helmTemplate(dir);
      break;
    default:
      objects = await plainFiles(dir, path, names.filter((n) => manifestFile.test(n)).sort());
  }
  if (objects.length === 0) {
    throw new SourceError(
      'InvalidManifests',
      `${shown} has no Kubernetes objects (looked for *.yaml, *.yml and *.json files, a kustomization.yaml or a Chart.yaml)`,
    );
  }
  return objects;
}

async function plainFiles(dir: string, path: string, files: string[]): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const name of files) {
    const text = await readFile(join(dir, name), 'utf8');
    objects.push(...parseManifests(text, path === '' ? name : `${path}/${name}`));
  }
  return objects;
}

function kustomize(root: string, dir: string, opts: RenderOptions): Promise<string> {
  return run({
    binary: opts.kubectlBinary,
    args: ['kustomize', dir],
    env: opts.env,
    cwd: dir,
    timeoutMs: opts.timeoutMs,
    maxOutputBytes: 64 * 1024 * 1024,
    what: 'kubectl kustomize',
    secrets: opts.secrets,
    defaultReason: 'RenderFailed',
    rewrite: { [`${root}/`]: '', [root]: '.' },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
