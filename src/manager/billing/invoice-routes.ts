import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ApiError } from '../../platform/problem.ts';
import { forRequest } from '../../schemas/api.ts';
import { CreateInvoice, InvoiceQuery, InvoiceResource, InvoiceSummary } from '../../schemas/billing.ts';
import type { BillingService } from './service.ts';
import { invoiceCsv, invoiceHtml, invoiceSummary } from './invoice-render.ts';
import { call, problems, standardProblems } from '../http/common.ts';

const InvoiceParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Text = Type.String();

/** Invoices: drafts for any tenant and period, finalization, JSON, CSV and HTML. */
export function invoiceRoutes(app: FastifyInstance, svc: BillingService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['invoices'];

  r.post(
    '/v1/invoices',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'invoice.manage',
        tags,
        summary:
          'Generate a draft invoice for a tenant and period (again, if the draft exists) (platform-admin)',
        body: forRequest(CreateInvoice),
        response: {
          200: InvoiceResource,
          201: InvoiceResource,
          ...problems(...standardProblems, 403, 409, 422),
        },
      },
    },
    async (req, reply) => {
      const c = call(req);
      const { invoice, created } = await svc.draft(
        c,
        req.body.tenant,
        req.body.periodStart,
        req.body.periodEnd,
      );
      return reply.code(created ? 201 : 200).send(await svc.getInvoice(c, invoice.id));
    },
  );

  r.get(
    '/v1/invoices',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'invoice.list',
        tags,
        summary: 'List invoices, newest period first (tenant-admin: its own)',
        querystring: InvoiceQuery,
        response: {
          200: Type.Object({ items: Type.Array(InvoiceSummary) }),
          ...problems(...standardProblems, 403),
        },
      },
    },
    async (req) => {
      const rows = await svc.listInvoices(call(req), {
        limit: req.query.limit ?? 100,
        ...(req.query.tenant ? { tenant: req.query.tenant } : {}),
        ...(req.query.status ? { status: req.query.status } : {}),
      });
      return {
        items: rows.map((row) => invoiceSummary(row)),
      };
    },
  );

  r.get(
    '/v1/invoices/:id',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'invoice.read',
        tags,
        summary: 'Get an invoice with its lines (JSON export)',
        params: InvoiceParams,
        response: { 200: InvoiceResource, ...problems(...standardProblems) },
      },
    },
    async (req) => svc.getInvoice(call(req), req.params.id),
  );

  r.get(
    '/v1/invoices/:id/csv',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'invoice.read',
        tags,
        summary: 'The invoice as CSV: one row per line and a total row',
        params: InvoiceParams,
        produces: ['text/csv'],
        response: { 200: Text, ...problems(...standardProblems) },
      },
    },
    async (req, reply) => {
      const inv = await svc.getInvoice(call(req), req.params.id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${inv.number ?? `draft-${inv.id}`}.csv"`)
        .send(invoiceCsv(inv));
    },
  );

  r.get(
    '/v1/invoices/:id/html',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'invoice.read',
        tags,
        summary: 'The invoice as a printable HTML page',
        params: InvoiceParams,
        produces: ['text/html'],
        response: { 200: Text, ...problems(...standardProblems) },
      },
    },
    async (req, reply) => {
      const inv = await svc.getInvoice(call(req), req.params.id);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(invoiceHtml(inv));
    },
  );

  r.post(
    '/v1/invoices/:id/finalize',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'invoice.manage',
        tags,
        summary: 'Finalize a draft: rated again, numbered, immutable from now on (platform-admin)',
        params: InvoiceParams,
        response: { 200: InvoiceResource, ...problems(...standardProblems, 403, 409, 422) },
      },
    },
    async (req) => {
      const c = call(req);
      await svc.finalize(c, req.params.id);
      return svc.getInvoice(c, req.params.id);
    },
  );

  // Invoices change only through drafting again and finalizing: PUT and PATCH say so (405 with
  // Allow) rather than 404, which would suggest the invoice does not exist. They are no operation,
  // so they stay out of the OpenAPI document (and need no policy action).
  for (const method of ['PUT', 'PATCH'] as const)
    r.route({
      method,
      url: '/v1/invoices/:id',
      config: { public: false },
      schema: {
        hide: true,
        tags,
        summary: `Not allowed (405): an invoice is regenerated by POST /v1/invoices and changed by finalize only`,
        params: InvoiceParams,
        response: { ...problems(401, 405, 429) },
      },
      handler: async (_req, reply) => {
        reply.header('allow', 'GET, DELETE');
        throw new ApiError(
          405,
          'KUBEOP_ERR_METHOD_NOT_ALLOWED',
          `${method} is not allowed on an invoice: POST /v1/invoices generates a draft again, POST /v1/invoices/{id}/finalize finalizes it`,
        );
      },
    });

  r.delete(
    '/v1/invoices/:id',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'invoice.manage',
        tags,
        summary: 'Delete a draft invoice (platform-admin); finalized invoices cannot be deleted',
        params: InvoiceParams,
        response: { 204: Type.Null(), ...problems(...standardProblems, 403, 409) },
      },
    },
    async (req, reply) => {
      await svc.deleteDraft(call(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
}
