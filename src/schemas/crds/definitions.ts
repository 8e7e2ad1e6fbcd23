import type { TSchema } from 'typebox';
import { AppSpec, AppStatus } from './app.ts';
import { ProjectSpec, ProjectStatus } from './project.ts';
import { TenantSpec, TenantStatus } from './tenant.ts';

export const GROUP = 'paas.kubeop.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Cluster' | 'Namespaced';
  description: string;
  spec: TSchema;
  status: TSchema;
  printerColumns: PrinterColumn[];
}

const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
const reason: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  priority: 1,
};
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** The custom resources of kubeOP; the CRD YAML in deploy/crds is generated from these. */
export const crdDefinitions: CrdDefinition[] = [
  {
    kind: 'Tenant',
    plural: 'tenants',
    singular: 'tenant',
    shortNames: ['tn'],
    scope: 'Cluster',
    description:
      'A tenant: its owners, tenant-wide quota, project quota defaults and policy. Its billing plan is assigned through the manager API (`PUT /v1/tenants/{tenant}/plan`).',
    spec: TenantSpec,
    status: TenantStatus,
    printerColumns: [ready, { name: 'Projects', type: 'integer', jsonPath: '.status.projects' }, reason, age],
  },
  {
    kind: 'Project',
    plural: 'projects',
    singular: 'project',
    shortNames: ['pj'],
    scope: 'Cluster',
    description:
      'A project of a tenant: one namespace with quota, limits, network isolation and member access.',
    spec: ProjectSpec,
    status: ProjectStatus,
    printerColumns: [
      { name: 'Tenant', type: 'string', jsonPath: '.spec.tenantRef.name' },
      { name: 'Namespace', type: 'string', jsonPath: '.status.namespace' },
      ready,
      reason,
      age,
    ],
  },
  {
    kind: 'App',
    plural: 'apps',
    singular: 'app',
    shortNames: ['kapp'],
    scope: 'Namespaced',
    description: 'An application delivered from an image, a Git repository, a Helm chart or raw manifests.',
    spec: AppSpec,
    status: AppStatus,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Revision', type: 'integer', jsonPath: '.status.revision' },
      { name: 'URL', type: 'string', jsonPath: '.status.url' },
      ready,
      reason,
      age,
    ],
  },
];
