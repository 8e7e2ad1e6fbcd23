#!/usr/bin/env bash
# Runs e2e suites with the Helm chart's ServiceAccounts instead of the admin: the chart is installed
# on a fresh local control plane, the operator (and admission) under test get kubeconfigs carrying
# the chart ServiceAccounts' tokens, so a permission missing from the chart fails a test.
#
#   hack/e2e-as-chart.sh test/e2e/tenancy.test.ts test/e2e/admission.test.ts ...
#
# Suites that name their own certificate Secrets (admission-certificates) need the admin's rights
# and are not meant for this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
state=$(mktemp -d /tmp/kubeop-e2e-as-chart.XXXXXX)
trap 'npm run --silent cluster -- down --state-dir "$state/cluster" >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
npm run --silent cluster -- up --state-dir "$state/cluster" >&2
kubeconfig="$state/cluster/admin.kubeconfig"
node test/support/chart-cli.ts install --kubeconfig "$kubeconfig" --out "$state/credentials" >&2
KUBEOP_TEST_KUBECONFIG="$kubeconfig" \
  KUBEOP_TEST_OPERATOR_KUBECONFIG="$state/credentials/operator.kubeconfig" \
  KUBEOP_TEST_ADMISSION_KUBECONFIG="$state/credentials/admission.kubeconfig" \
  vitest run --project e2e "$@"
