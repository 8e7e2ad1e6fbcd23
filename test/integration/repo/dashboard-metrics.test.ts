import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The Grafana dashboard and the PrometheusRule shipped with the chart may only query metrics the
// code registers: a renamed or removed metric would otherwise leave an empty panel or an alert that
// can never fire.
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(repo, 'deploy/chart/kubeop');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every metric name registered in src (`name: 'kubeop_…'` in a prom-client constructor). */
const registered = new Set(
  sourceFiles(join(repo, 'src')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/name:\s*'(kubeop_[a-z0-9_]+)'/g)].map((m) => m[1]!),
  ),
);

/** The kubeOP metrics a PromQL expression reads; histogram series map back to their metric. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bkubeop_[a-z0-9_]+/g)].map((m) => {
    const name = m[0];
    const base = name.replace(/_(bucket|count|sum)$/, '');
    return registered.has(name) ? name : base;
  });
}

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}
const dashboard = JSON.parse(readFileSync(join(chart, 'dashboards/kubeop.json'), 'utf8')) as {
  panels: Panel[];
};
const queries = dashboard.panels
  .filter((p) => p.type !== 'row')
  .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const ruleExprs = [
  ...readFileSync(join(chart, 'templates/monitoring.yaml'), 'utf8').matchAll(/^\s+expr: (.+)$/gm),
].map((m) => m[1]!);

describe('metrics named by the dashboard and alerts', () => {
  it('the code registers the metrics this test compares against', () => {
    expect(registered.size).toBeGreaterThan(5);
    expect(registered).toContain('kubeop_controller_reconcile_total');
  });

  it('a query naming an unregistered metric is caught', () => {
    expect(metricsIn('rate(kubeop_no_such_metric_total[5m])').filter((m) => !registered.has(m))).toEqual([
      'kubeop_no_such_metric_total',
    ]);
  });

  it('every dashboard panel queries at least one metric, and only registered ones', () => {
    expect(queries.length).toBeGreaterThan(10);
    for (const { panel, expr } of queries) {
      const names = metricsIn(expr);
      expect(names.length, `panel "${panel}" names no kubeOP metric`).toBeGreaterThan(0);
      expect(
        names.filter((n) => !registered.has(n)),
        `panel "${panel}": ${expr}`,
      ).toEqual([]);
    }
  });

  it('every alert expression names only registered metrics', () => {
    expect(ruleExprs.length).toBeGreaterThan(3);
    for (const expr of ruleExprs) {
      expect(
        metricsIn(expr).filter((n) => !registered.has(n)),
        expr,
      ).toEqual([]);
    }
  });

  it('covers reconciles, errors, queues, drift, webhook latency, API latency and usage ingested', () => {
    const used = new Set(queries.flatMap((q) => metricsIn(q.expr)));
    for (const name of [
      'kubeop_controller_reconcile_total',
      'kubeop_controller_reconcile_errors_total',
      'kubeop_workqueue_depth',
      'kubeop_drift_corrected_total',
      'kubeop_admission_request_duration_seconds',
      'kubeop_http_request_duration_seconds',
      'kubeop_metering_sent_total',
    ]) {
      expect(used, name).toContain(name);
    }
  });
});
