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
      degraded: [],
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

  it('reports a failing degrading check as degraded, not failing, unless a required one fails too', async () => {
    const h = new HealthChecks(100);
    h.addReadiness('database', () => {});
    h.addReadiness(
      'kubernetes-api',
      () => {
        throw new Error('API server unreachable: connect ECONNREFUSED');
      },
      { degrades: true },
    );
    expect(await h.ready()).toEqual({
      status: 'degraded',
      checks: {
        database: { status: 'ok' },
        'kubernetes-api': { status: 'degraded', error: 'API server unreachable: connect ECONNREFUSED' },
      },
      failing: [],
      degraded: ['kubernetes-api'],
    });
    h.addReadiness('database', () => {
      throw new Error('down');
    });
    const both = await h.ready();
    expect(both.status).toBe('failing');
    expect(both.failing).toEqual(['database']);
    expect(both.degraded).toEqual(['kubernetes-api']);
  });
});
