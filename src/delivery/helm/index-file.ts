import semver from 'semver';
import { parse } from 'yaml';
import { SourceError } from '../source.ts';

/** One chart version as a repository's index.yaml lists it. */
export interface ChartVersion {
  name: string;
  version: string;
  /** sha256 of the packaged chart, hex; absent in some hand-made indexes. */
  digest?: string;
  urls: string[];
}

/** Chart name → its versions, as published in the repository's index.yaml. */
export type ChartIndex = Map<string, ChartVersion[]>;

/**
 * Parses a Helm repository index (`apiVersion: v1`, `entries: {name: [{version, digest, urls}]}`).
 * Entries without a version or URL are ignored rather than failing the whole repository.
 */
export function parseIndex(text: string, where: string): ChartIndex {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 1000 });
  } catch (err) {
    throw new SourceError('SourceUnreachable', `${where} is not a Helm repository index (not YAML)`, {
      cause: err,
      retryable: false,
    });
  }
  if (!isRecord(doc) || !isRecord(doc.entries)) {
    throw new SourceError('SourceUnreachable', `${where} is not a Helm repository index (no entries)`, {
      retryable: false,
    });
  }
  const index: ChartIndex = new Map();
  for (const [name, list] of Object.entries(doc.entries)) {
    if (!Array.isArray(list)) continue;
    const versions: ChartVersion[] = [];
    for (const e of list) {
      if (!isRecord(e) || (typeof e.version !== 'string' && typeof e.version !== 'number')) continue;
      const urls = Array.isArray(e.urls) ? e.urls.filter((u): u is string => typeof u === 'string') : [];
      if (urls.length === 0) continue;
      versions.push({
        name,
        version: String(e.version),
        ...(typeof e.digest === 'string' && /^[0-9a-f]{64}$/i.test(e.digest)
          ? { digest: e.digest.toLowerCase() }
          : {}),
        urls,
      });
    }
    index.set(name, versions);
  }
  return index;
}

/**
 * Translates a Helm (Masterminds) constraint to npm semver syntax: Helm separates AND-ed comparators
 * with commas (`>=1.2, <2`), npm with spaces; `||` and `x`/`~`/`^` ranges mean the same in both.
 */
export function toSemverRange(constraint: string): string {
  return constraint
    .split('||')
    .map((part) => part.replace(/,/g, ' ').replace(/\s+/g, ' ').trim())
    .join(' || ');
}

/**
 * The highest version satisfying `constraint`, as Helm picks it: no constraint means the newest
 * stable version; pre-releases match only a constraint that names one (`^2.0.0-0`). Versions are
 * compared as semver (a `v` prefix is accepted); an exact version string always matches itself.
 */
export function resolveVersion(
  versions: readonly string[],
  constraint: string | undefined,
): string | undefined {
  const wanted = constraint?.trim() ?? '';
  if (wanted !== '' && versions.includes(wanted)) return wanted;
  const range = wanted === '' ? '*' : toSemverRange(wanted);
  if (semver.validRange(range, { loose: true }) === null) return undefined;
  let best: { raw: string; parsed: semver.SemVer } | undefined;
  for (const raw of versions) {
    const parsed = semver.parse(raw, { loose: true });
    if (!parsed || !semver.satisfies(parsed, range, { loose: true })) continue;
    if (!best || semver.gt(parsed, best.parsed)) best = { raw, parsed };
  }
  return best?.raw;
}

/** True when a constraint is not a valid semver range or version; it can never match. */
export function isValidConstraint(constraint: string): boolean {
  return semver.validRange(toSemverRange(constraint), { loose: true }) !== null;
}

/** True when the constraint names exactly one version, so a cached package is known to be right. */
export function isExactVersion(constraint: string | undefined): boolean {
  return constraint !== undefined && semver.valid(constraint.trim(), { loose: true }) !== null;
}

/** Picks a chart version from an index, or a RevisionNotFound that says what exists. */
export function pickChartVersion(
  index: ChartIndex,
  chart: string,
  constraint: string | undefined,
  where: string,
): ChartVersion {
  const versions = index.get(chart);
  if (!versions || versions.length === 0) {
    const names = [...index.keys()].sort();
    throw new SourceError(
      'RevisionNotFound',
      `chart "${chart}" is not in ${where}; charts there: ${list(names)}. Fix source.helm.chart or source.helm.repoURL`,
    );
  }
  if (constraint !== undefined && constraint.trim() !== '' && !isValidConstraint(constraint)) {
    throw new SourceError(
      'RevisionNotFound',
      `source.helm.version "${constraint}" is not a semver version or range (examples: 1.2.3, ^1.2, >=1.2 <2)`,
    );
  }
  const chosen = resolveVersion(
    versions.map((v) => v.version),
    constraint,
  );
  const entry = versions.find((v) => v.version === chosen);
  if (!entry) {
    const newest = [...versions]
      .map((v) => v.version)
      .filter((v) => semver.valid(v, { loose: true }) !== null)
      .sort((a, b) => semver.rcompare(a, b, { loose: true }))
      .slice(0, 10);
    throw new SourceError(
      'RevisionNotFound',
      `chart "${chart}" has no version matching "${constraint ?? ''}" in ${where}; newest versions: ${list(newest)}. Fix source.helm.version`,
    );
  }
  return entry;
}

/** Chart URLs in an index may be relative to the repository URL. */
export function chartDownloadUrl(repoURL: string, entry: ChartVersion): string {
  const first = entry.urls[0] ?? '';
  const base = repoURL.endsWith('/') ? repoURL : `${repoURL}/`;
  return new URL(first, base).toString();
}

function list(items: string[]): string {
  return items.length === 0 ? '(none)' : items.join(', ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
