/**
 * Container image references, parsed the way the container runtime resolves them
 * (github.com/distribution/reference, `ParseNormalizedNamed`), so the registry kubeOP checks is the
 * registry the node will pull from:
 *
 * - `nginx`, `library/nginx`, `index.docker.io/nginx` → `docker.io/library/nginx`
 * - `acme/web` → `docker.io/acme/web` (the first part is a registry only when it contains `.` or
 *   `:`, is `localhost`, or has upper-case letters)
 * - `registry:5000/team/app` keeps its port: `registry:5000` is not `registry`
 * - a digest (`@sha256:<64 hex>`) pins the content; a tag may come with it
 *
 * Anything the grammar does not accept is an error rather than a guess, so no odd spelling can make
 * kubeOP see one registry while the runtime pulls from another.
 */
export interface ImageReference {
  /** Registry host, lower-cased, with its port when one is given: `docker.io`, `registry:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/nginx`, `acme/web`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export class ImageReferenceError extends Error {
  constructor(ref: string, reason: string) {
    super(`"${ref}" is not a valid image reference: ${reason}`);
    this.name = 'ImageReferenceError';
  }
}

const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const MAX_NAME_LENGTH = 255;

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const domainPattern = new RegExp(`^${host}(?::[0-9]+)?$`);
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const sha256Pattern = /^sha256:[0-9a-f]{64}$/;
const bareHex64 = /^[a-f0-9]{64}$/;

/** Splits `first/rest` into registry and path the way Docker does (see the module comment). */
function splitRegistry(name: string): [registry: string, remainder: string] {
  const i = name.indexOf('/');
  const first = i === -1 ? '' : name.slice(0, i);
  let registry: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    registry = DEFAULT_REGISTRY;
    remainder = name;
  } else {
    registry = first;
    remainder = name.slice(i + 1);
  }
  if (registry.toLowerCase() === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry.toLowerCase() === DEFAULT_REGISTRY && !remainder.includes('/')) {
    remainder = `library/${remainder}`;
  }
  return [registry, remainder];
}

export function parseImageReference(ref: string): ImageReference {
  if (typeof ref !== 'string' || ref === '') throw new ImageReferenceError(String(ref), 'it is empty');
  if (ref !== ref.trim() || /\s/.test(ref)) throw new ImageReferenceError(ref, 'it contains whitespace');
  if (bareHex64.test(ref)) {
    throw new ImageReferenceError(ref, 'a bare 64-character hex string is an image ID, not a reference');
  }
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw new ImageReferenceError(ref, `"${digest}" is not a digest`);
    if (digest.startsWith('sha256:') && !sha256Pattern.test(digest)) {
      throw new ImageReferenceError(ref, 'a sha256 digest has exactly 64 lower-case hex characters');
    }
  }
  // A tag follows the last ':' that comes after the last '/'; an earlier ':' is a registry port.
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw new ImageReferenceError(ref, `"${tag}" is not a valid tag`);
  }
  if (rest === '') throw new ImageReferenceError(ref, 'the repository name is missing');
  if (rest.length > MAX_NAME_LENGTH) {
    throw new ImageReferenceError(ref, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  const [registry, repository] = splitRegistry(rest);
  if (!domainPattern.test(registry)) {
    throw new ImageReferenceError(ref, `"${registry}" is not a registry host`);
  }
  if (repository.toLowerCase() !== repository) {
    throw new ImageReferenceError(ref, 'the repository name must be lower-case');
  }
  if (!repository.split('/').every((part) => pathComponent.test(part))) {
    throw new ImageReferenceError(ref, `"${repository}" is not a valid repository path`);
  }
  return {
    registry: registry.toLowerCase(),
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** `docker.io/library/nginx:1.27@sha256:…` — the fully qualified form, for messages. */
export function formatImageReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/**
 * An allowed-registries entry: a registry (`docker.io`, `registry:5000`) or a registry with a path
 * prefix (`ghcr.io/acme`). The prefix matches whole path segments: `ghcr.io/acme` allows
 * `ghcr.io/acme/web` but not `ghcr.io/acme-evil/web`.
 */
export function registryAllows(entry: string, image: ImageReference): boolean {
  const trimmed = entry.trim().replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  let registry = (slash === -1 ? trimmed : trimmed.slice(0, slash)).toLowerCase();
  const prefix = slash === -1 ? '' : trimmed.slice(slash + 1);
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry !== image.registry) return false;
  return prefix === '' || image.repository === prefix || image.repository.startsWith(`${prefix}/`);
}
