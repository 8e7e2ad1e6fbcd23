import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { forRequest, Page, PageQuery } from '../../schemas/api.ts';
import {
  ClusterCheck,
  ClusterParams,
  ClusterResource,
  DeregisterQuery,
  MemberKubeconfig,
  MemberKubeconfigRequest,
  RegisterCluster,
  RegisterQuery,
} from '../../schemas/clusters-api.ts';
import type { ClusterService } from './service.ts';
import type { ClusterRow } from './store.ts';
import { call, ProjectParams, problems, standardProblems } from '../http/common.ts';

/** The API view of a cluster: everything but its kubeconfig. */
export function clusterView(row: ClusterRow) {
  return {
    name: row.name,
    server: row.server,
    default: row.isDefault,
    labels: row.labels,
    kubeconfigSource: row.sealedKubeconfig ? ('stored' as const) : ('manager' as const),
    serverVersion: row.serverVersion,
    checkedAt: row.checkedAt,
    checkError: row.checkError,
    projects: row.projects,
    lane: row.laneHolder ? { holder: row.laneHolder, renewedAt: row.laneRenewedAt! } : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    version: row.version,
  };
}

const encodeCursor = (name: string) => Buffer.from(name).toString('base64url');
const decodeCursor = (cursor: string | undefined) =>
  cursor ? Buffer.from(cursor, 'base64url').toString() : undefined;

/** Clusters (platform-admin only) and member kubeconfigs: thin handlers over the cluster service. */
export function clusterRoutes(app: FastifyInstance, svc: ClusterService): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/v1/clusters',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'cluster.read',
        tags: ['clusters'],
        summary: 'List clusters (platform-admin)',
        querystring: PageQuery,
        response: { 200: Page(ClusterResource), ...problems(...standardProblems, 403) },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 50;
      const rows = await svc.list(call(req), {
        limit,
        ...(req.query.cursor ? { after: decodeCursor(req.query.cursor)! } : {}),
      });
      const items = rows.slice(0, limit);
      return {
        items: items.map(clusterView),
        ...(rows.length > limit ? { nextCursor: encodeCursor(items.at(-1)!.name) } : {}),
      };
    },
  );

  r.post(
    '/v1/clusters',
    {
      // The body carries credentials: never log it, whatever the log level.
      logLevel: 'warn',
      config: { public: false },
      schema: {
        'x-kubeop-action': 'cluster.manage',
        tags: ['clusters'],
        summary: 'Register a cluster with its kubeconfig (platform-admin)',
        querystring: RegisterQuery,
        body: forRequest(RegisterCluster),
        response: { 201: ClusterResource, ...problems(...standardProblems, 403, 409, 422, 503) },
      },
    },
    async (req, reply) => {
      const row = await svc.register(call(req), req.body, req.query.check ?? true);
      return reply.code(201).send(clusterView(row));
    },
  );

  r.get(
    '/v1/clusters/:cluster',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'cluster.read',
        tags: ['clusters'],
        summary: 'Get a cluster (platform-admin)',
        params: ClusterParams,
        response: { 200: ClusterResource, ...problems(...standardProblems, 403) },
      },
    },
    async (req) => clusterView(await svc.get(call(req), req.params.cluster)),
  );

  r.post(
    '/v1/clusters/:cluster/check',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'cluster.manage',
        tags: ['clusters'],
        summary: 'Check that the cluster answers with its stored kubeconfig (platform-admin)',
        params: ClusterParams,
        response: { 200: ClusterCheck, ...problems(...standardProblems, 403, 503) },
      },
    },
    async (req) => {
      const out = await svc.check(call(req), req.params.cluster);
      return { reachable: out.reachable, cluster: clusterView(out.cluster) };
    },
  );

  r.delete(
    '/v1/clusters/:cluster',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'cluster.manage',
        tags: ['clusters'],
        summary: 'Deregister a cluster; refused while projects are placed on it unless ?force=true',
        params: ClusterParams,
        querystring: DeregisterQuery,
        response: { 204: Type.Null(), ...problems(...standardProblems, 403, 409) },
      },
    },
    async (req, reply) => {
      await svc.deregister(call(req), req.params.cluster, req.query.force ?? false);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/v1/tenants/:tenant/projects/:project/kubeconfig',
    {
      config: { public: false },
      schema: {
        'x-kubeop-action': 'project.kubeconfig',
        tags: ['projects'],
        summary:
          "A kubeconfig for the caller in the project's namespace (ServiceAccount token with an expiry)",
        params: ProjectParams,
        body: forRequest(MemberKubeconfigRequest),
        response: { 200: MemberKubeconfig, ...problems(...standardProblems, 403, 409, 422, 503) },
      },
    },
    async (req, reply) => {
      const out = await svc.memberKubeconfig(
        call(req),
        req.params.tenant,
        req.params.project,
        req.body ?? {},
      );
      void reply.header('cache-control', 'no-store');
      return out;
    },
  );
}
