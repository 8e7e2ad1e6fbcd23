import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { formatDecimal } from '../../domain/billing/decimal.ts';
import { hourToIso } from '../../domain/billing/hours.ts';
import { meter } from '../../domain/billing/meters.ts';
import { forRequest } from '../../schemas/api.ts';
import {
  AssignPlan,
  CreatePlan,
  PlanAssignments,
  PlanResource,
  PlanVersionBody,
} from '../../schemas/billing.ts';
import type { BillingService } from './service.ts';
import type { PlanRow } from './plan-store.ts';
import { call, problems, standardProblems, TenantParams } from '../http/common.ts';
import { decimalsAsStrings } from '../http/decimals.ts';

const priceDecimals = decimalsAsStrings(['unitPrice', 'included', 'monthlyAmount']);

const PlanParams = Type.Object({ plan: Type.String({ maxLength: 63 }) });

export function planView(p: PlanRow) {
  return {
    name: p.name,
    currency: p.currency,
    description: p.description,
    createdAt: p.createdAt,
    versions: p.versions.map((v) => ({
      effectiveFrom: hourToIso(v.effectiveFrom),
      prices: v.prices.map((x) => ({
        meter: x.meter,
        unit: meter(x.meter).priceUnit,
        unitPrice: x.unitPrice,
        included: x.included ?? formatDecimal(0n, 0),
      })),
      fees: v.fees,
    })),
  };
}

/** Plans and their price versions (platform-admin), and plan assignments of tenants. */
export function planRoutes(app: FastifyInstance, svc: BillingService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['plans'];

  r.get(
    '/v1/plans',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'plan.read',
        tags,
        summary: 'List plans (platform-admin)',
        response: {
          200: Type.Object({ items: Type.Array(PlanResource) }),
          ...problems(...standardProblems, 403),
        },
      },
    },
    async (req) => ({ items: (await svc.listPlans(call(req))).map(planView) }),
  );

  r.post(
    '/v1/plans',
    {
      preValidation: priceDecimals,
      config: { public: false },
      schema: {
        'x-kubeop-action': 'plan.manage',
        tags,
        summary: 'Create a plan with its first prices (platform-admin)',
        body: forRequest(CreatePlan),
        response: { 201: PlanResource, ...problems(...standardProblems, 403, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(planView(await svc.createPlan(call(req), req.body))),
  );

  r.get(
    '/v1/plans/:plan',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'plan.read',
        tags,
        summary: 'Get a plan with all its price versions (platform-admin)',
        params: PlanParams,
        response: { 200: PlanResource, ...problems(...standardProblems, 403) },
      },
    },
    async (req) => planView(await svc.getPlan(call(req), req.params.plan)),
  );

  r.post(
    '/v1/plans/:plan/versions',
    {
      preValidation: priceDecimals,
      config: { public: false },
      schema: {
        'x-kubeop-action': 'plan.manage',
        tags,
        summary:
          'Change prices from a given hour on; periods already invoiced keep their prices (platform-admin)',
        params: PlanParams,
        body: forRequest(PlanVersionBody),
        response: { 201: PlanResource, ...problems(...standardProblems, 403, 409) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(planView(await svc.addVersion(call(req), req.params.plan, req.body))),
  );

  r.delete(
    '/v1/plans/:plan',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'plan.manage',
        tags,
        summary: 'Delete a plan that was never assigned (platform-admin)',
        params: PlanParams,
        response: { 204: Type.Null(), ...problems(...standardProblems, 403, 409) },
      },
    },
    async (req, reply) => {
      await svc.deletePlan(call(req), req.params.plan);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/v1/tenants/:tenant/plan',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'plan.assignments',
        tags,
        summary: "A tenant's plan assignments, each in force until the next",
        params: TenantParams,
        response: { 200: PlanAssignments, ...problems(...standardProblems) },
      },
    },
    async (req) => svc.assignments(call(req), req.params.tenant),
  );

  r.put(
    '/v1/tenants/:tenant/plan',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'plan.assign',
        tags,
        summary: 'Put a tenant on a plan from a given hour on (platform-admin)',
        params: TenantParams,
        body: forRequest(AssignPlan),
        response: { 200: PlanAssignments, ...problems(...standardProblems, 403, 409) },
      },
    },
    async (req) => svc.assign(call(req), req.params.tenant, req.body.plan, req.body.effectiveFrom),
  );
}
