import type { KubeObject } from '../kube-object.ts';
import type { AppSpec, AppStatus } from './app.ts';
import type { ProjectSpec, ProjectStatus } from './project.ts';
import type { TenantSpec, TenantStatus } from './tenant.ts';

export interface Tenant extends KubeObject {
  spec: TenantSpec;
  status?: TenantStatus;
}

export interface Project extends KubeObject {
  spec: ProjectSpec;
  status?: ProjectStatus;
}

export interface App extends KubeObject {
  spec: AppSpec;
  status?: AppStatus;
}
