import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal OCI distribution registry on 127.0.0.1, in memory, speaking plain HTTP: just enough of
 * the distribution API for `helm push` and `helm pull` (blob upload by POST/PATCH/PUT, manifests by
 * tag and digest, tag listing), optionally behind HTTP basic auth. No deletes, no referrers.
 */
export interface OciRegistry {
  /** `127.0.0.1:<port>`; charts live at `oci://<host>/<path>/<chart>`. */
  host: string;
  requests: string[];
  /** When set, every request needs these HTTP basic credentials (else 401 with a Basic challenge). */
  auth: { username: string; password: string } | undefined;
  tags(repository: string): string[];
  close(): Promise<void>;
}

interface Manifest {
  body: Buffer;
  mediaType: string;
  digest: string;
}

const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

export async function startOciRegistry(): Promise<OciRegistry> {
  const blobs = new Map<string, Buffer>();
  const uploads = new Map<string, Buffer[]>();
  const manifests = new Map<string, Map<string, Manifest>>(); // repo → tag|digest → manifest
  const requests: string[] = [];
  let auth: { username: string; password: string } | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    const body = await readBody(req);
    if (auth) {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.setHeader('www-authenticate', 'Basic realm="kubeop-test-registry"');
        return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
      }
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') return void res.writeHead(200).end('{}');

    let m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/.exec(url.pathname);
    if (m) {
      const [, repo, id] = m as unknown as [string, string, string];
      if (method === 'POST') {
        const digest = url.searchParams.get('digest');
        if (digest) return finishUpload(res, repo, digest, [body]);
        const uuid = randomUUID();
        uploads.set(uuid, []);
        return void res
          .writeHead(202, {
            location: `/v2/${repo}/blobs/uploads/${uuid}`,
            range: '0-0',
            'docker-upload-uuid': uuid,
          })
          .end();
      }
      const parts = uploads.get(id);
      if (!parts) return notFound(res, 'BLOB_UPLOAD_UNKNOWN');
      parts.push(body);
      if (method === 'PATCH') {
        const size = parts.reduce((n, p) => n + p.length, 0);
        return void res
          .writeHead(202, {
            location: `/v2/${repo}/blobs/uploads/${id}`,
            range: `0-${Math.max(size - 1, 0)}`,
          })
          .end();
      }
      if (method === 'PUT') {
        uploads.delete(id);
        return finishUpload(res, repo, url.searchParams.get('digest') ?? '', parts);
      }
    }
    m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (m) {
      const blob = blobs.get(m[2]!);
      if (!blob) return notFound(res, 'BLOB_UNKNOWN');
      res.writeHead(200, {
        'content-length': blob.length,
        'content-type': 'application/octet-stream',
        'docker-content-digest': m[2]!,
      });
      return void res.end(method === 'HEAD' ? undefined : blob);
    }
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const [, repo, ref] = m as unknown as [string, string, string];
      if (method === 'PUT') {
        const manifest: Manifest = {
          body,
          mediaType: req.headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json',
          digest: digestOf(body),
        };
        const refs = manifests.get(repo) ?? new Map<string, Manifest>();
        refs.set(ref, manifest);
        refs.set(manifest.digest, manifest);
        manifests.set(repo, refs);
        return void res
          .writeHead(201, {
            location: `/v2/${repo}/manifests/${manifest.digest}`,
            'docker-content-digest': manifest.digest,
          })
          .end();
      }
      const found = manifests.get(repo)?.get(ref);
      if (!found) return notFound(res, 'MANIFEST_UNKNOWN');
      res.writeHead(200, {
        'content-type': found.mediaType,
        'content-length': found.body.length,
        'docker-content-digest': found.digest,
      });
      return void res.end(method === 'HEAD' ? undefined : found.body);
    }
    m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (m) {
      const refs = manifests.get(m[1]!);
      if (!refs) return notFound(res, 'NAME_UNKNOWN');
      return json(res, 200, { name: m[1], tags: tagsOf(refs) });
    }
    return notFound(res, 'UNSUPPORTED');
  };

  function finishUpload(res: ServerResponse, repo: string, digest: string, parts: Buffer[]) {
    const data = Buffer.concat(parts);
    if (digestOf(data) !== digest)
      return json(res, 400, { errors: [{ code: 'DIGEST_INVALID', message: digest }] });
    blobs.set(digest, data);
    res.writeHead(201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest }).end();
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    get auth() {
      return auth;
    },
    set auth(value) {
      auth = value;
    },
    tags: (repository) => tagsOf(manifests.get(repository) ?? new Map()),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function tagsOf(refs: Map<string, Manifest>): string[] {
  return [...refs.keys()].filter((r) => !r.startsWith('sha256:')).sort();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function notFound(res: ServerResponse, code: string) {
  json(res, 404, { errors: [{ code, message: code.toLowerCase().replaceAll('_', ' ') }] });
}
