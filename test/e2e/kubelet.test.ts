import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveExec, serveLogs, type PodLogs } from '../support/kubelet.ts';
import { adminConfig, CoreV1Api, createTestNamespace, eventually, kubeconfigPath } from '../support/e2e.ts';

const run = promisify(execFile);
const kubectl = (args: string[], input?: string) => {
  const p = run('kubectl', ['--kubeconfig', kubeconfigPath!, ...args]);
  if (input !== undefined) p.child.stdin?.end(input);
  return p;
};

// The e2e cluster serves what a kubelet serves for logs and exec (kwok on loopback behind the real
// API server's kubelet client), so the runtime API and the CLI are tested against the real paths.
describe.skipIf(!kubeconfigPath)('the e2e cluster kubelet endpoint', () => {
  const kc = kubeconfigPath ? adminConfig() : undefined;
  let ns: { name: string; remove: () => Promise<void> };
  let other: { name: string; remove: () => Promise<void> };
  let logs: PodLogs;
  let exec: { workDir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    ns = await createTestNamespace(kc!, 'kubelet');
    other = await createTestNamespace(kc!, 'kubelet-other');
    const core = kc!.makeApiClient(CoreV1Api);
    for (const namespace of [ns.name, other.name]) {
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: 'web' },
          spec: {
            containers: [
              { name: 'app', image: 'registry.example/app:1' },
              { name: 'side', image: 'registry.example/side:1' },
            ],
          },
        },
      });
    }
    await eventually('pods running', async () => {
      const phases = await Promise.all(
        [ns.name, other.name].map(
          async (namespace) => (await core.readNamespacedPod({ name: 'web', namespace })).status?.phase,
        ),
      );
      return phases.every((p) => p === 'Running') ? true : undefined;
    });
    logs = await serveLogs(kc!, ns.name, ['app', 'side']);
    exec = await serveExec(kc!, ns.name);
  });
  afterAll(async () => {
    await logs?.remove();
    await exec?.remove();
    await ns?.remove();
    await other?.remove();
  });

  it('serves each container its own log through kubectl logs', async () => {
    logs.write('app', 'hello from app');
    logs.write('side', 'hello from side', 'stderr');
    // kwok picks up a new ClusterLogs object through its watch; wait for it to answer.
    const app = await eventually('logs of app', async () => {
      const { stdout } = await kubectl(['logs', '-n', ns.name, 'web', '-c', 'app']);
      return stdout.includes('hello from app') ? stdout : undefined;
    });
    expect(app).not.toContain('hello from side');
    const { stdout: side } = await kubectl(['logs', '-n', ns.name, 'web', '-c', 'side']);
    expect(side).toContain('hello from side');
    logs.writePrevious('app', 'before the restart');
    const { stdout: previous } = await kubectl(['logs', '-n', ns.name, 'web', '-c', 'app', '--previous']);
    expect(previous).toContain('before the restart');
    expect(previous).not.toContain('hello from app');
  });

  it('streams lines written after kubectl logs -f started', async () => {
    const child = spawn('kubectl', [
      '--kubeconfig',
      kubeconfigPath!,
      'logs',
      '-f',
      '-n',
      ns.name,
      'web',
      '-c',
      'app',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually('the existing lines', async () => (out.includes('hello from app') ? true : undefined));
      logs.write('app', 'a line written while following');
      await eventually('the new line', async () =>
        out.includes('a line written while following') ? true : undefined,
      );
    } finally {
      child.kill();
    }
  });

  it('refuses logs for a pod whose namespace has none configured', async () => {
    const err = await kubectl(['logs', '-n', other.name, 'web', '-c', 'app']).then(
      () => undefined,
      (e: Error & { stderr?: string }) => e,
    );
    expect(err).toBeDefined();
  });

  it('runs kubectl exec with stdout, stderr, stdin and the exit status', async () => {
    /** `kubectl exec` into the app container of the test pod. */
    const execInApp = (command: string[], input?: string, flags: string[] = []) =>
      kubectl(['exec', ...flags, '-n', ns.name, 'web', '-c', 'app', '--', ...command], input);
    const { stdout } = await eventually('exec answers', async () =>
      execInApp(['sh', '-c', 'pwd; echo "$KUBEOP_TEST_EXEC"']),
    );
    expect(stdout.split('\n')).toEqual([exec.workDir, ns.name, '']);
    const split = await execInApp(['sh', '-c', 'echo out; echo err >&2']);
    expect(split.stdout).toBe('out\n');
    expect(split.stderr).toBe('err\n');
    // A real kubelet reports NonZeroExitCode with the code; kwok 0.8 reports the same end as a
    // failure whose message carries it (see test/support/kubelet.ts).
    const failed = await execInApp(['sh', '-c', 'exit 3']).then(
      () => undefined,
      (e: Error & { code?: number; stderr?: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('exit status 3');
    const { stdout: echoed } = await execInApp(['head', '-n1'], 'typed in\n', ['-i']);
    expect(echoed).toBe('typed in\n');
  });
});
