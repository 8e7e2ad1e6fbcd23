import { GROUP, VERSION, type CrdDefinition } from './definitions.ts';

/** TypeBox schema → plain JSON: drops TypeBox's symbol keys and anything Kubernetes would refuse. */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/**
 * The CustomResourceDefinition for a kind: one served and stored version, the status subresource,
 * printer columns, and the OpenAPI schema from the same TypeBox schemas the code is typed with.
 */
export function renderCrd(def: CrdDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'kubeop' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['kubeop'],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: plain(def.spec),
                status: plain(def.status),
              },
            },
          },
        },
      ],
    },
  };
}
