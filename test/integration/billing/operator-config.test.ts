import { describe, expect, it } from 'vitest';
import { runKubeop } from '../../support/kubeop-process.ts';

describe('operator metering configuration', () => {
  it('refuses a manager URL without a metering token, in one line, before touching a cluster', async () => {
    const r = await runKubeop(['operator'], { KUBEOP_MANAGER_URL: 'http://127.0.0.1:1' });
    expect(r.code).not.toBe(0);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('kubeop:')),
    ).toEqual([
      'kubeop: KUBEOP_MANAGER_URL is set: KUBEOP_METERING_TOKEN (a metering token) is required to send usage',
    ]);
  });

  it('refuses a manager URL that is not http(s), and never echoes the token', async () => {
    const token = 'kop_' + 's'.repeat(43);
    const r = await runKubeop(['operator'], {
      KUBEOP_MANAGER_URL: 'ftp://manager',
      KUBEOP_METERING_TOKEN: token,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/KUBEOP_MANAGER_URL.*expected an http:\/\/ or https:\/\/ URL/);
    expect(r.stdout + r.stderr).not.toContain(token);
  });
});
