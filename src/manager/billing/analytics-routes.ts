import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { formatDecimal } from '../../domain/billing/decimal.ts';
import { ApiError } from '../../platform/problem.ts';
import { AnalyticsQuery, AnalyticsSeries, TopList, TopQuery } from '../../schemas/billing.ts';
import type { BillingService } from './service.ts';
import { call, problems, standardProblems } from '../http/common.ts';

/**
 * Cost and usage over time and top-N, for the API and the web console. Cost here is usage × the unit
 * price in force at each hour, before allowances and fees; invoices are the authoritative amounts.
 * A tenant-admin sees its tenant, a project role its project.
 */
export function analyticsRoutes(app: FastifyInstance, svc: BillingService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['analytics'];

  r.get(
    '/v1/analytics/usage',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'analytics.read',
        tags,
        summary: 'Usage and cost per hour, day or month, by tenant, project or app',
        querystring: AnalyticsQuery,
        response: { 200: AnalyticsSeries, ...problems(...standardProblems, 403) },
      },
    },
    async (req) => {
      const q = req.query;
      const points = await svc.analytics(call(req), {
        from: q.from,
        to: q.to,
        granularity: q.granularity ?? 'day',
        groupBy: q.groupBy ?? 'project',
        ...(q.tenant ? { tenant: q.tenant } : {}),
        ...(q.project ? { project: q.project } : {}),
        ...(q.meter ? { meter: q.meter } : {}),
      });
      return { items: points.map(({ costMinor: _c, ...p }) => p) };
    },
  );

  r.get(
    '/v1/analytics/top',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'analytics.read',
        tags,
        summary:
          'The N tenants, projects or apps that cost most over a period, in one currency (422 if costs are in several and none is chosen)',
        querystring: TopQuery,
        response: { 200: TopList, ...problems(...standardProblems, 403, 422) },
      },
    },
    async (req) => {
      const q = req.query;
      const by = q.by ?? 'tenant';
      const points = await svc.analytics(call(req), {
        from: q.from,
        to: q.to,
        granularity: 'all',
        groupBy: by,
        ...(q.tenant ? { tenant: q.tenant } : {}),
      });
      // Ranked within one currency: amounts in two currencies are not comparable. Usage no plan
      // priced has no cost and no currency, so it takes no place in a ranking of what cost most.
      const priced = points.flatMap((p) =>
        p.currency !== null && (!q.currency || p.currency === q.currency)
          ? [{ ...p, currency: p.currency }]
          : [],
      );
      const currencies = [...new Set(priced.map((p) => p.currency))];
      if (currencies.length > 1)
        throw new ApiError(
          422,
          'KUBEOP_ERR_MIXED_CURRENCY',
          `costs in this period are in ${currencies.sort().join(' and ')}; choose one with ?currency=`,
        );
      const groups = new Map<
        string,
        {
          tenant: string;
          project?: string;
          app?: string;
          minor: bigint;
          exp: number;
          currency: string;
        }
      >();
      for (const p of priced) {
        const key = `${p.tenant}\0${p.project ?? ''}\0${p.app ?? ''}`;
        const g = groups.get(key) ?? {
          tenant: p.tenant,
          ...(p.project !== undefined ? { project: p.project } : {}),
          ...(p.app !== undefined ? { app: p.app } : {}),
          minor: 0n,
          exp: p.cost.split('.')[1]?.length ?? 0,
          currency: p.currency,
        };
        g.minor += p.costMinor;
        groups.set(key, g);
      }
      const items = [...groups.values()]
        .sort((a, b) => (b.minor > a.minor ? 1 : b.minor < a.minor ? -1 : a.tenant.localeCompare(b.tenant)))
        .slice(0, q.limit ?? 10)
        .map(({ minor, exp, ...g }) => ({ ...g, cost: formatDecimal(minor, exp, exp) }));
      return { items };
    },
  );
}
