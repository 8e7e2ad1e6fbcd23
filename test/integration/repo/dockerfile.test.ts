import { readFileSync } from 'node:fs';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };

// No container engine runs here, so the image is checked statically: dockerfile-utils' linter (the
// rules of the Docker language server), and the properties the chart and the Pod Security
// `restricted` profile rely on.
const repo = new URL('../../../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', repo), 'utf8');
const versions = Object.fromEntries(
  readFileSync(new URL('hack/controlplane/versions.env', repo), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split('=') as [string, string]),
);

/** Instructions with continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages = instructions.reduce<string[][]>((acc, line) => {
  if (/^FROM\s/i.test(line)) acc.push([]);
  acc.at(-1)?.push(line);
  return acc;
}, []);
const runtime = stages.at(-1) ?? [];
const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)`, 'm').exec(dockerfile)?.[1];

describe('Dockerfile', () => {
  it('has no linter findings', () => {
    const findings = validate(dockerfile).map(
      (d) => `line ${d.range.start.line + 1}: ${d.message} (${String(d.code)})`,
    );
    expect(findings).toEqual([]);
  });

  it('the linter does report a broken Dockerfile (so the check above can fail)', () => {
    expect(
      validate('FROM node:24\nEXPOSE 80/xyz\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]\n').length,
    ).toBeGreaterThan(0);
  });

  it('is multi-stage and its runtime stage runs on the Node.js 24 the repository pins', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(runtime[0]).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/);
    expect(arg('NODE_IMAGE')).toBe(`node:${pkg.devDependencies.node}-bookworm-slim`);
  });

  it('runs as a numeric non-root user, so runAsNonRoot can be verified', () => {
    const users = runtime.filter((l) => /^USER\s/.test(l));
    expect(users).toHaveLength(1);
    const [uid] = users[0]!.slice(5).trim().split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(uid).toMatch(/^\d+$/);
  });

  it('ships git, helm and kubectl at the versions the tests run', () => {
    expect(runtime.join('\n')).toMatch(/apt-get install .*\bgit=/);
    expect(runtime.join('\n')).toMatch(
      /COPY --from=tools \/tools\/helm \/tools\/kubectl \/usr\/local\/bin\//,
    );
    expect(arg('HELM_VERSION')).toBe(versions.HELM_VERSION);
    expect(arg('KUBECTL_VERSION')).toBe(versions.KUBERNETES_VERSION);
  });

  it('is one image for every component: the command names the component', () => {
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/kubeop.js"]');
    const chart = ['operator', 'admission', 'manager'].map((c) =>
      readFileSync(new URL(`deploy/chart/kubeop/templates/${c}-deployment.yaml`, repo), 'utf8'),
    );
    chart.forEach((t, i) => expect(t).toContain(`args: [${['operator', 'admission', 'manager'][i]}]`));
  });

  it('.dockerignore sends only what the build copies', () => {
    const ignore = readFileSync(new URL('.dockerignore', repo), 'utf8').split('\n');
    expect(ignore).toContain('*');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    for (const path of copied) {
      expect(ignore.some((l) => l === `!${path}` || l === `!${path}/`)).toBe(true);
    }
  });
});
