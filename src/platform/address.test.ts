import { describe, expect, it } from 'vitest';
import { formatListenAddress, parseListenAddress } from './address.ts';

describe('listen addresses', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:9443', { host: '::1', port: 9443 }],
    ['kubeop.example:80', { host: 'kubeop.example', port: 80 }],
  ])('parses %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['8080', ':8080', '127.0.0.1', '127.0.0.1:65536', '::1:80', 'a b:1', '127.0.0.1:-1'])(
    'refuses %s',
    (text) => {
      expect(parseListenAddress(text)).toBeUndefined();
    },
  );

  it('brackets IPv6 hosts when formatting', () => {
    expect(formatListenAddress({ host: '::1', port: 80 })).toBe('[::1]:80');
    expect(formatListenAddress({ host: '127.0.0.1', port: 80 })).toBe('127.0.0.1:80');
  });
});
