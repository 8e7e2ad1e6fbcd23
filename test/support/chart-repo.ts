import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findHelm } from '../../scripts/helm.ts';
import { SourceError, type SourceContext } from '../../src/delivery/source.ts';
import type { App } from '../../src/schemas/crds/types.ts';

const run = promisify(execFile);

/** The chart fixtures (test/fixtures/charts/<name>). */
export const chartFixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/charts/${name}`, import.meta.url));

/**
 * The helm binary the tests use: KUBEOP_HELM_BINARY, `helm` on PATH, or the one built with the local
 * control plane (hack/controlplane). Undefined when there is none; suites then skip loudly.
 */
export function testHelmBinary(): string | undefined {
  return findHelm();
}

/** helm with a throw-away home, so the tests never read or write the developer's helm settings. */
export async function helmCli(helm: string, args: string[], home: string): Promise<string> {
  const { stdout } = await run(helm, args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    },
    timeout: 60_000,
  });
  return stdout;
}

/** `helm package` a fixture at a given version (appVersion follows it); returns the .tgz path. */
export async function packageChart(
  helm: string,
  chartDir: string,
  version: string,
  destDir: string,
): Promise<string> {
  await mkdir(destDir, { recursive: true });
  const out = await helmCli(
    helm,
    ['package', chartDir, '--version', version, '--app-version', version, '--destination', destDir],
    destDir,
  );
  const path = /saved it to: (.+\.tgz)/.exec(out)?.[1];
  if (!path) throw new Error(`helm package printed no path: ${out}`);
  return path.trim();
}

export interface ChartRepo {
  /** The repository URL to put in `source.helm.repoURL` (serves `<url>/index.yaml`). */
  url: string;
  /** Paths requested so far, in order (e.g. to prove a cache hit made no request). */
  requests: string[];
  /** Packages another version of a chart and re-indexes. */
  addVersion(chart: string, version: string): Promise<void>;
  /** Changes a published package so that it no longer matches the index digest. */
  corrupt(chart: string, version: string): Promise<void>;
  /** Every response is delayed this long (timeouts). */
  delayMs: number;
  /** When set, every request is answered with this HTTP status (401, 500…). */
  failWith: number | undefined;
  /** When set, requests need these HTTP basic credentials (else 401). */
  auth: { username: string; password: string } | undefined;
  close(): Promise<void>;
}

/**
 * A Helm chart repository on 127.0.0.1: fixtures packaged with `helm package`, indexed with
 * `helm repo index` (relative URLs, sha256 digests), served by a plain node HTTP server under
 * `/charts`.
 */
export async function startChartRepo(
  helm: string,
  charts: Array<{ name: string; versions: string[] }>,
): Promise<ChartRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeop-chart-repo-'));
  const home = await mkdtemp(join(tmpdir(), 'kubeop-chart-repo-home-'));
  const reindex = () => helmCli(helm, ['repo', 'index', dir], home);
  for (const c of charts) for (const v of c.versions) await packageChart(helm, chartFixture(c.name), v, dir);
  await reindex();

  const requests: string[] = [];
  const state: {
    delayMs: number;
    failWith: number | undefined;
    auth: { username: string; password: string } | undefined;
  } = { delayMs: 0, failWith: undefined, auth: undefined };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    setTimeout(() => {
      if (state.failWith) return void res.writeHead(state.failWith).end('refused');
      if (state.auth) {
        const expected = `Basic ${Buffer.from(`${state.auth.username}:${state.auth.password}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          return void res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' }).end('unauthorized');
        }
      }
      if (!path.startsWith('/charts/')) return void res.writeHead(404).end('not found');
      const file = normalize(join(dir, path.slice('/charts/'.length)));
      if (!file.startsWith(dir + '/')) return void res.writeHead(400).end();
      readFile(file).then(
        (data) => {
          const type = file.endsWith('.yaml') ? 'application/x-yaml' : 'application/gzip';
          res.writeHead(200, { 'content-type': type, 'content-length': data.length }).end(data);
        },
        () => res.writeHead(404).end('not found'),
      );
    }, state.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/charts`,
    requests,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    get failWith() {
      return state.failWith;
    },
    get auth() {
      return state.auth;
    },
    set auth(auth: { username: string; password: string } | undefined) {
      state.auth = auth;
    },
    set failWith(status: number | undefined) {
      state.failWith = status;
    },
    async addVersion(chart, version) {
      await packageChart(helm, chartFixture(chart), version, dir);
      await reindex();
    },
    async corrupt(chart, version) {
      await appendFile(join(dir, `${chart}-${version}.tgz`), Buffer.from('tampered'));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A loopback URL nothing listens on (a port that was free a moment ago). */
export async function unusedLoopbackUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

type HelmSpec = NonNullable<App['spec']['source']['helm']>;

/** A SourceContext for an App `shop` in namespace `acme-shop` with the given ConfigMaps and Secrets. */
export function helmContext(
  spec: HelmSpec,
  objects: {
    configMaps?: Record<string, Record<string, string>>;
    secrets?: Record<string, Record<string, string>>;
  } = {},
): SourceContext {
  return {
    app: {
      apiVersion: 'paas.kubeop.io/v1alpha1',
      kind: 'App',
      metadata: { name: 'shop', namespace: 'acme-shop' },
      spec: { source: { helm: spec } },
    },
    namespace: 'acme-shop',
    readSecret: async (name) => objects.secrets?.[name],
    readConfigMap: async (name) => objects.configMaps?.[name],
  };
}

/** The SourceError a render rejects with (anything else fails the test). */
export async function sourceFailure(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SourceError)) throw new Error(`expected a SourceError, got ${String(err)}`);
  return err;
}
