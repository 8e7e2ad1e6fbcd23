// Installs the kubeOP chart on a test cluster and writes kubeconfigs for its ServiceAccounts, so any
// e2e suite can run the operator with the chart's permissions instead of the admin's:
//
//   node test/support/chart-cli.ts install --kubeconfig <admin kubeconfig> --out <dir>
//   KUBEOP_TEST_KUBECONFIG=<admin kubeconfig> KUBEOP_TEST_OPERATOR_KUBECONFIG=<dir>/operator.kubeconfig \
//     vitest run --project e2e test/e2e/tenancy.test.ts
//   node test/support/chart-cli.ts uninstall --kubeconfig <admin kubeconfig>
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CHART_NAMESPACE,
  helm,
  installChart,
  prepareNamespace,
  RELEASE,
  SERVICE_ACCOUNTS,
  serviceAccountKubeconfig,
} from './chart.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { kubeconfig: { type: 'string' }, out: { type: 'string', default: '.chart-credentials' } },
});
const command = positionals[0];
const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
if (!kubeconfig || (command !== 'install' && command !== 'uninstall')) {
  process.stderr.write(
    'usage: chart-cli.ts install|uninstall --kubeconfig <admin kubeconfig> [--out <dir>]\n',
  );
  process.exit(2);
}

if (command === 'install') {
  await prepareNamespace(kubeconfig);
  await installChart(kubeconfig);
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  for (const [component, sa] of Object.entries(SERVICE_ACCOUNTS)) {
    const file = await serviceAccountKubeconfig(kubeconfig, sa, join(out, `${component}.kubeconfig`));
    process.stdout.write(`${component}: ${file}\n`);
  }
  process.stdout.write(`KUBEOP_TEST_OPERATOR_KUBECONFIG=${join(out, 'operator.kubeconfig')}\n`);
} else {
  await helm(kubeconfig, ['uninstall', RELEASE, '--namespace', CHART_NAMESPACE, '--wait']);
  process.stdout.write(`uninstalled ${RELEASE} from ${CHART_NAMESPACE}\n`);
}
