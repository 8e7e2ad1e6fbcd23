import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { forRequest } from '../../schemas/api.ts';
import { IngestResult, UsageBatch, VoidedUsageEvent, VoidUsageEvent } from '../../schemas/billing.ts';
import type { BillingService } from './service.ts';
import { call, problems, standardProblems } from '../http/common.ts';
import { decimalsAsStrings } from '../http/decimals.ts';

export const USAGE_EVENTS_PATH = '/v1/usage/events';

/** Usage ingestion: idempotent batches of up to 1,000 events. */
export function usageRoutes(app: FastifyInstance, svc: BillingService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    USAGE_EVENTS_PATH,
    {
      bodyLimit: 4 * 1024 * 1024,
      preValidation: decimalsAsStrings(['quantity']),
      config: { public: false },
      schema: {
        'x-kubeop-action': 'usage.ingest',
        tags: ['usage'],
        summary: 'Send usage events (metering or platform-admin); duplicates by key are ignored',
        body: forRequest(UsageBatch),
        response: { 200: IngestResult, ...problems(...standardProblems, 403) },
      },
    },
    async (req) => svc.ingest(call(req), req.body.events),
  );
  r.post(
    `${USAGE_EVENTS_PATH}/void`,
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'usage.void',
        tags: ['usage'],
        summary:
          'Void a wrong usage event (platform-admin, audited): it leaves the usage, its key stays used, and a finalized invoice it was in is adjusted on the next one',
        body: forRequest(VoidUsageEvent),
        response: { 200: VoidedUsageEvent, ...problems(...standardProblems, 403, 409) },
      },
    },
    async (req) => svc.voidEvent(call(req), req.body),
  );
}
