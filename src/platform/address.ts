/** A listen address: `host:port`, with IPv6 hosts in brackets (`[::1]:8080`). Port 0 picks a free port. */
export interface ListenAddress {
  host: string;
  port: number;
}

const pattern = /^(?:\[(?<v6>[0-9A-Fa-f:.]+)\]|(?<host>[A-Za-z0-9.-]+)):(?<port>\d{1,5})$/;

/** Parses `host:port`; returns undefined when the text is not a valid listen address. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = pattern.exec(text);
  if (!m?.groups) return undefined;
  const port = Number(m.groups.port);
  if (!Number.isInteger(port) || port > 65535) return undefined;
  const host = m.groups.v6 ?? m.groups.host;
  if (host === undefined) return undefined;
  return { host, port };
}

/** Formats an address for humans and URLs (`[::1]:8080`, `127.0.0.1:8080`). */
export function formatListenAddress(addr: ListenAddress): string {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}
