import { describe, expect, it } from 'vitest';
import { HealthChecks } from './health.ts';

describe('HealthChecks', () => {
  it('is ready when every readiness check passes', async () => {
    const h = new HealthChecks(100);
    h.addReadiness('database', async () => {});
    h.addReadiness('cluster', () => {});
    expect(await h.ready()).toEqual({
      status: 'ok',
      checks: { database: { status: 'ok' }, cluster: { status: 'ok' } },
      failing: [],
    });
  });

  it('names the failing check and its reason', async () => {
    const h = new HealthChecks(100);
    h.addReadiness('database', async () => {
      throw new Error('connection refused');
    });
    h.addReadiness('cluster', () => {});
    const report = await h.ready();
    expect(report.status).toBe('failing');
    expect(report.failing).toEqual(['database']);
    expect(report.checks.database).toEqual({ status: 'failing', error: 'connection refused' });
  });

  it('counts a check that never settles as failing after the timeout', async () => {
    const h = new HealthChecks(20);
    h.addReadiness('stuck', () => new Promise(() => {}));
    const report = await h.ready();
    expect(report.failing).toEqual(['stuck']);
    expect(report.checks.stuck?.error).toBe('timed out after 20ms');
  });

  it('keeps liveness separate from readiness', async () => {
    const h = new HealthChecks(100);
    h.addReadiness('database', () => {
      throw new Error('down');
    });
    expect((await h.live()).status).toBe('ok');
    expect((await h.ready()).status).toBe('failing');
  });
});
