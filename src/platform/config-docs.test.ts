import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from './config-docs.ts';
import { configVariables } from './config.ts';

describe('configuration reference', () => {
  it('has a row for every variable with its flag', () => {
    const doc = renderConfigDocs();
    for (const { name } of configVariables()) {
      expect(doc).toMatch(new RegExp(`^\\| \`${name}\` \\| \`--`, 'm'));
    }
  });

  it('shows defaults, allowed values and ranges', () => {
    const doc = renderConfigDocs();
    expect(doc).toContain('| `KUBEOP_HTTP_ADDR` | `--http-addr` | `127.0.0.1:8080` |');
    expect(doc).toMatch(/KUBEOP_LOG_LEVEL.*\(one of `fatal`, `error`/);
    expect(doc).toMatch(/KUBEOP_SHUTDOWN_TIMEOUT_SECONDS.*`25` \(1–600\)/);
    expect(doc).toMatch(/KUBEOP_DB_URL.*\(unset\).*Treated as a secret/);
  });
});
