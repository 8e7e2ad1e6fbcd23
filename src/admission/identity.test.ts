import { describe, expect, it } from 'vitest';
import { isTrusted, untrustedRequestCel } from './identity.ts';

const trusted = { operatorUsername: 'system:serviceaccount:kubeop-system:kubeop' };

describe('trusted identities', () => {
  it.each([
    [{ username: 'system:serviceaccount:kubeop-system:kubeop' }, true],
    [{ username: 'admin', groups: ['system:masters'] }, true],
    [{ username: 'system:serviceaccount:kube-system:namespace-controller' }, true],
    [{ username: 'system:kube-controller-manager' }, true],
    [{ username: 'alice', groups: ['system:authenticated'] }, false],
    [{ username: 'system:serviceaccount:acme-web:kubeop-deployer' }, false],
    [{ username: 'system:serviceaccount:kubeop-system:other' }, false],
    [{ username: 'system:serviceaccount:kube-systemx:x' }, false],
    [{}, false],
    [undefined, false],
  ])('%j → %s', (user, expected) => {
    expect(isTrusted(user, trusted)).toBe(expected);
  });

  it('gives the API server the same test as a CEL condition, quoting the configured name', () => {
    const cel = untrustedRequestCel({ operatorUsername: "o'brien" });
    expect(cel).toContain("request.userInfo.username != 'o\\'brien'");
    expect(cel).toContain("'system:masters' in request.userInfo.groups");
    expect(cel).toContain("!request.userInfo.username.startsWith('system:serviceaccount:kube-system:')");
  });
});
