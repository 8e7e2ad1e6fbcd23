import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { Database } from '../../db/database.ts';
import { projectNamespace } from '../../domain/naming.ts';
import { KubeClient } from '../../kube/client.ts';
import { ApiError } from '../../platform/problem.ts';
import { authorize } from '../access/authorize.ts';
import {
  clusterAccess,
  FIELD_MANAGER,
  kmsMissing,
  serverVersion,
  type ClusterAccess,
} from './cluster-access.ts';
import { KubeconfigError, memberKubeconfig, normaliseKubeconfig } from './cluster-config.ts';
import {
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  isUniqueViolation,
  notFound,
} from '../http/errors.ts';
import { issueMemberToken, maxProjectRole, withinRole, type ProjectRole } from './member-access.ts';
import type { Call } from '../tenancy/service.ts';
import { auditSuccess } from '../access/audit-store.ts';
import {
  adoptUnplaced,
  getCluster,
  hasDefaultCluster,
  insertCluster,
  listClusters,
  recordCheck,
  removeCluster,
  type ClusterRow,
} from './store.ts';

export interface ClusterServiceOptions {
  db: Database;
  access?: ClusterAccess;
  /** Upper bound of a member kubeconfig's lifetime. */
  memberKubeconfigMaxSeconds?: number;
  /** Called after a registration or deregistration (the lane supervisor re-reads clusters). */
  onChange?: () => void;
}

const unreachable = (name: string, err: unknown) =>
  new ApiError(
    422,
    'KUBEOP_ERR_CLUSTER_UNREACHABLE',
    `cluster "${name}" did not answer GET /version: ${String((err as Error).message).slice(0, 300)}; fix the kubeconfig or register with ?check=false`,
  );

/**
 * Clusters (platform-admin only) and kubeconfigs for project members. A kubeconfig goes in once, is
 * validated, checked against the API server and sealed with the KMS; no response, log line or
 * audit entry ever contains it.
 */
export function clusterService(opts: ClusterServiceOptions) {
  const { db } = opts;
  const access = opts.access ?? clusterAccess({});
  const maxSeconds = opts.memberKubeconfigMaxSeconds ?? 28_800;

  async function clusterOrThrow(name: string): Promise<ClusterRow> {
    const row = await getCluster(db, name);
    if (!row) throw notFound('cluster', name);
    return row;
  }

  return {
    async list(call: Call, page: { limit: number; after?: string }) {
      authorize(call, 'cluster.read');
      return listClusters(db, page);
    },

    async get(call: Call, name: string) {
      authorize(call, 'cluster.read');
      return clusterOrThrow(name);
    },

    async register(
      call: Call,
      input: { name: string; kubeconfig: string; default?: boolean; labels?: Record<string, string> },
      check: boolean,
    ): Promise<ClusterRow> {
      authorize(call, 'cluster.manage');
      let normalised;
      try {
        normalised = normaliseKubeconfig(input.kubeconfig);
      } catch (err) {
        if (err instanceof KubeconfigError) throw badRequest('KUBECONFIG_INVALID', err.message);
        throw err;
      }
      if (!access.canSeal) throw kmsMissing();
      if (await getCluster(db, input.name)) throw alreadyExists('cluster', input.name);
      let version: string | undefined;
      if (check) {
        const kc = new KubeConfig();
        try {
          kc.loadFromString(normalised.text);
        } catch {
          // The client library's message may quote the file; say only what failed.
          throw badRequest(
            'KUBECONFIG_INVALID',
            'the kubeconfig could not be loaded by the Kubernetes client',
          );
        }
        try {
          version = await serverVersion(new KubeClient(kc, { fieldManager: FIELD_MANAGER }));
        } catch (err) {
          throw unreachable(input.name, err);
        }
      }
      const id = randomUUID();
      // Sealed before the transaction: an external KMS call never holds row locks.
      const sealed = await access.seal(id, normalised.text);
      try {
        await db.transaction(async (tx) => {
          const makeDefault = input.default === true || !(await hasDefaultCluster(tx));
          if (makeDefault) await tx.query('UPDATE clusters SET is_default = false WHERE is_default');
          await insertCluster(tx, {
            id,
            name: input.name,
            server: normalised.endpoint.server,
            sealedKubeconfig: sealed,
            isDefault: makeDefault,
            labels: input.labels ?? {},
            serverVersion: version ?? null,
            checked: check,
          });
          if (makeDefault) await adoptUnplaced(tx, id);
          await auditSuccess(tx, call, 'register', 'cluster', input.name, null, {
            server: normalised.endpoint.server,
            default: makeDefault,
            checked: check,
          });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists('cluster', input.name);
        throw err;
      }
      opts.onChange?.();
      return (await getCluster(db, input.name))!;
    },

    /** Connects with the stored kubeconfig and records the outcome; unreachable is a result, not an error. */
    async check(call: Call, name: string): Promise<{ cluster: ClusterRow; reachable: boolean }> {
      authorize(call, 'cluster.manage');
      const row = await clusterOrThrow(name);
      const { client } = await access.open(row);
      let reachable = true;
      try {
        await recordCheck(db, row.id, { serverVersion: await serverVersion(client) });
      } catch (err) {
        reachable = false;
        await recordCheck(db, row.id, { error: unreachable(name, err).message });
      }
      return { cluster: await clusterOrThrow(name), reachable };
    },

    async deregister(call: Call, name: string, force: boolean): Promise<void> {
      authorize(call, 'cluster.manage');
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string; projects: number }>(
          `SELECT c.id, (SELECT count(*)::int FROM projects p WHERE p.cluster_id = c.id) AS projects
           FROM clusters c WHERE c.name = $1 FOR UPDATE`,
          [name],
        );
        const row = rows[0];
        if (!row) throw notFound('cluster', name);
        if (row.projects > 0 && !force)
          throw conflict(
            'CLUSTER_IN_USE',
            `cluster "${name}" still has ${row.projects} project(s) placed on it; delete or move them first, or deregister with ?force=true (they become unplaced)`,
          );
        await removeCluster(tx, row.id);
        await auditSuccess(tx, call, 'deregister', 'cluster', name, null, { force, projects: row.projects });
      });
      opts.onChange?.();
    },

    /**
     * A kubeconfig for the caller in a project's namespace: a ServiceAccount bound to the project
     * role (at most the caller's own) and a token that expires. Refusals do not reveal what exists.
     */
    async memberKubeconfig(
      call: Call,
      tenant: string,
      project: string,
      req: { role?: ProjectRole; expirationSeconds?: number },
    ) {
      const p = call.principal;
      authorize(call, 'project.kubeconfig', { tenant, project }, () => notFound('project', project));
      const max = maxProjectRole(p.role);
      const role = req.role ?? max;
      if (!withinRole(role, max))
        throw forbidden(`your token (${p.role}) may get at most a "${max}" kubeconfig for this project`);
      const seconds = req.expirationSeconds ?? Math.min(3600, maxSeconds);
      if (seconds > maxSeconds)
        throw badRequest(
          'EXPIRATION_TOO_LONG',
          `expirationSeconds may be at most ${maxSeconds} (KUBEOP_MEMBER_KUBECONFIG_MAX_SECONDS)`,
        );
      const { rows } = await db.query<{ tenant_id: string; cluster: string | null }>(
        `SELECT t.id AS tenant_id, c.name AS cluster FROM projects p JOIN tenants t ON t.id = p.tenant_id
         LEFT JOIN clusters c ON c.id = p.cluster_id WHERE t.name = $1 AND p.name = $2`,
        [tenant, project],
      );
      const found = rows[0];
      if (!found) throw notFound('project', project);
      if (!found.cluster)
        throw conflict('PROJECT_NOT_PLACED', `project "${project}" is not placed on any cluster yet`);
      const cluster = (await getCluster(db, found.cluster))!;
      const opened = await access.open(cluster);
      const namespace = projectNamespace(tenant, project);
      const ns = await opened.client
        .find({ apiVersion: 'v1', kind: 'Namespace', name: namespace })
        .catch((err: unknown) => {
          throw unreachable(cluster.name, err);
        });
      if (!ns)
        throw conflict(
          'PROJECT_NOT_READY',
          `project "${project}" has no namespace on cluster "${cluster.name}" yet; retry once it is Ready`,
        );
      const issued = await issueMemberToken(opened.client, {
        namespace,
        actor: p.actor,
        role,
        expirationSeconds: seconds,
      });
      await auditSuccess(db, call, 'issue-kubeconfig', 'project', project, found.tenant_id, {
        role,
        serviceAccount: issued.serviceAccount,
        expiresAt: issued.expiresAt,
        cluster: cluster.name,
      });
      return {
        kubeconfig: memberKubeconfig({
          cluster: cluster.name,
          endpoint: opened.endpoint,
          namespace,
          user: issued.serviceAccount,
          token: issued.token,
        }),
        cluster: cluster.name,
        namespace,
        role,
        serviceAccount: issued.serviceAccount,
        expiresAt: issued.expiresAt,
      };
    },
  };
}

export type ClusterService = ReturnType<typeof clusterService>;

// Serialises concurrent starts of several replicas registering the same local cluster.
const LOCAL_CLUSTER_LOCK = 0x6b75_6263;

/**
 * Registers the cluster of the manager's own configuration (KUBEOP_KUBECONFIG, KUBECONFIG or
 * in-cluster) at start, so the single-kubeconfig setup keeps working: it is stored without a
 * kubeconfig (each replica uses its own), named `default` (or `local` when that name is taken),
 * becomes the default cluster when there is none and adopts everything waiting for a cluster.
 * Idempotent; a changed server URL is updated.
 */
export async function ensureLocalCluster(
  db: Database,
  server: string,
): Promise<{ name: string; created: boolean; isDefault: boolean }> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCAL_CLUSTER_LOCK]);
    const { rows } = await tx.query<{ id: string; name: string; server: string; is_default: boolean }>(
      'SELECT id, name, server, is_default FROM clusters WHERE kubeconfig IS NULL',
    );
    const existing = rows[0];
    if (existing) {
      if (existing.server !== server)
        await tx.query(
          'UPDATE clusters SET server = $2, updated_at = now(), version = version + 1 WHERE id = $1',
          [existing.id, server],
        );
      return { name: existing.name, created: false, isDefault: existing.is_default };
    }
    const { rows: taken } = await tx.query("SELECT 1 FROM clusters WHERE name = 'default'");
    const name = taken.length ? 'local' : 'default';
    const makeDefault = !(await hasDefaultCluster(tx));
    const id = randomUUID();
    await insertCluster(tx, { id, name, server, sealedKubeconfig: null, isDefault: makeDefault, labels: {} });
    if (makeDefault) await adoptUnplaced(tx, id);
    return { name, created: true, isDefault: makeDefault };
  });
}
