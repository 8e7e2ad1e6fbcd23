// The plain manifests (deploy/k8s/kubeop.yaml): the chart rendered with its default values into
// kubeop-system, CRDs included, after the Namespace it needs (Pod Security `restricted` enforced).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CHART_DIR = fileURLToPath(new URL('../deploy/chart/kubeop', import.meta.url));
export const PLAIN_NAMESPACE = 'kubeop-system';

const header = `# Generated from deploy/chart/kubeop with its default values by \`npm run gen\`; do not edit.
# A test fails when it is stale. Install: see docs/operations/install.md (create the Secrets first).
apiVersion: v1
kind: Namespace
metadata:
  name: ${PLAIN_NAMESPACE}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
`;

export function helmTemplate(helm: string, args: string[] = []): string {
  return execFileSync(helm, ['template', 'kubeop', CHART_DIR, '--namespace', PLAIN_NAMESPACE, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function renderPlainManifests(helm: string): string {
  return `${header}---\n${helmTemplate(helm, ['--include-crds'])}`;
}
