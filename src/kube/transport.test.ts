import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCertificateAuthority, issueCertificate } from '../platform/pki.ts';
import { KubeApiError, KubeTransport, type WatchEvent } from './transport.ts';

// The watch stream against a small HTTPS server standing in for the API server's wire format:
// newline-delimited JSON events, possibly split across chunks, or a Status answer.
let server: Server;
let transport: KubeTransport;
let respond: (url: string, res: ServerResponse) => void = () => {};

beforeAll(async () => {
  const ca = await createCertificateAuthority('test-ca');
  const leaf = await issueCertificate(ca, {
    commonName: 'localhost',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => respond(req.url ?? '', res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        caData: Buffer.from(ca.certPem).toString('base64'),
      },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  transport = new KubeTransport(kc);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function watch() {
  const events: WatchEvent[] = [];
  const done = vi.fn<(err?: unknown) => void>();
  const handle = transport.watch('/api/v1/configmaps?watch=true', (e) => events.push(e), done);
  return { events, done, handle };
}

describe('KubeTransport.watch', () => {
  it('delivers events split across chunks in order, then ends normally with the stream', async () => {
    respond = (_url, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"n":1}}\n{"type":"MOD');
      setTimeout(() => res.end('IFIED","object":{"n":2}}\n'), 20);
    };
    const w = watch();
    await vi.waitFor(() => expect(w.done).toHaveBeenCalledTimes(1));
    expect(w.events).toEqual([
      { type: 'ADDED', object: { n: 1 } },
      { type: 'MODIFIED', object: { n: 2 } },
    ]);
    expect(w.done).toHaveBeenCalledWith(undefined);
  });

  it('reports an error answer as a KubeApiError that keeps its code (410 Gone relists)', async () => {
    respond = (_url, res) => {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'Expired', message: 'too old resource version' }));
    };
    const w = watch();
    await vi.waitFor(() => expect(w.done).toHaveBeenCalledTimes(1));
    const err = w.done.mock.calls[0]![0];
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 410, reason: 'Expired' });
    expect(w.events).toEqual([]);
  });

  it('calls nothing back after abort', async () => {
    respond = (_url, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"n":1}}\n');
      setTimeout(() => res.end('{"type":"ADDED","object":{"n":2}}\n'), 50);
    };
    const w = watch();
    await vi.waitFor(() => expect(w.events).toHaveLength(1));
    w.handle.abort();
    await new Promise((r) => setTimeout(r, 100));
    expect(w.events).toHaveLength(1);
    expect(w.done).not.toHaveBeenCalled();
  });
});
