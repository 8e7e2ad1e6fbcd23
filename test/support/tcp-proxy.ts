import { connect, createServer, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'hang';

export interface TcpProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  port: number;
  /**
   * `hang`: the API server as seen when it accepts connections and never answers — open
   * connections stop passing bytes either way and new ones are accepted and never answered.
   * `forward`: back to normal; the connections held while hanging are reset (as when a hung API
   * server is restarted), so clients reconnect.
   */
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of `target` (the kube-apiserver), for the fault "accepts TCP and
 * never answers": TLS passes through untouched, so the kubeconfig keeps its CA and credentials and
 * only its server address changes to the proxy. SIGSTOP of the API server is not used because the
 * kernel then still completes handshakes and buffers requests, and SIGCONT answers all of them at
 * once — a different fault.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  const piped = new Set<{ client: Socket; upstream: Socket }>();
  const held = new Set<Socket>();
  const server = createServer((client) => {
    client.on('error', () => {});
    if (mode === 'hang') {
      held.add(client);
      client.on('close', () => held.delete(client));
      client.pause();
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair = { client, upstream };
    piped.add(pair);
    const drop = () => {
      piped.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    setMode(next) {
      if (next === mode) return;
      mode = next;
      if (next === 'hang') {
        // Freeze what is open: nothing more passes in either direction, nothing is closed.
        for (const { client, upstream } of piped) {
          client.unpipe(upstream);
          upstream.unpipe(client);
          client.pause();
          upstream.pause();
          held.add(client);
          held.add(upstream);
        }
        piped.clear();
      } else {
        for (const s of held) s.destroy();
        held.clear();
      }
    },
    async close() {
      for (const s of held) s.destroy();
      for (const { client, upstream } of piped) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
