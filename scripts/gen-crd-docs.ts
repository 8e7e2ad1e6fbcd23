// Writes docs/reference/crds.md from the CustomResourceDefinitions that gen-crds.ts writes to
// deploy/crds (the same renderCrd over the TypeBox schemas). Part of `npm run gen`; a test fails
// when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { crdDefinitions, type CrdDefinition, type PrinterColumn } from '../src/schemas/crds/definitions.ts';
import { renderCrd } from '../src/schemas/crds/render.ts';
import { code, fieldRows, fieldTable, ruleRows, ruleTable, table, type JsonSchema } from './schema-fields.ts';

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  subresources?: Record<string, unknown>;
  additionalPrinterColumns: PrinterColumn[];
  schema: { openAPIV3Schema: { properties: { spec: JsonSchema; status: JsonSchema } } };
}

interface Crd {
  spec: {
    group: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: string;
    versions: CrdVersion[];
  };
}

function renderKind(def: CrdDefinition): string[] {
  const crd = renderCrd(def) as unknown as Crd;
  const { group, names, scope } = crd.spec;
  const kind = names.kind;
  const out: string[] = [`## ${kind}`, '', def.description, ''];
  const versions = crd.spec.versions.map((v) => {
    const flags = [v.served ? 'served' : '', v.storage ? 'storage' : ''].filter(Boolean).join(', ');
    const sub = Object.keys(v.subresources ?? {}).sort();
    return `${code(v.name)} (${flags}${sub.length > 0 ? `; subresources: ${sub.join(', ')}` : ''})`;
  });
  out.push(
    ...table(
      ['Property', 'Value'],
      [
        ['API group', code(group)],
        ['Version', versions.join(', ')],
        ['Scope', scope],
        ['Plural / singular', `${code(names.plural)} / ${code(names.singular)}`],
        ['Short names', names.shortNames.map(code).join(', ')],
        ['Categories', names.categories.map(code).join(', ')],
        [
          'CRD',
          `[deploy/crds/${names.plural}.${group}.yaml](../../deploy/crds/${names.plural}.${group}.yaml)`,
        ],
      ],
    ),
    '',
  );

  for (const version of crd.spec.versions) {
    const heading = crd.spec.versions.length > 1 ? `${kind} ${version.name}` : kind;
    out.push(
      `### ${heading} printer columns`,
      '',
      'What `kubectl get` shows; columns of priority 1 only with `-o wide`.',
      '',
      ...table(
        ['Name', 'Type', 'JSONPath', 'Priority', 'Description'],
        version.additionalPrinterColumns.map((c) => [
          c.name,
          c.type,
          code(c.jsonPath),
          String(c.priority ?? 0),
          c.description ?? '',
        ]),
      ),
      '',
    );
    const { spec, status } = version.schema.openAPIV3Schema.properties;
    for (const [part, schema] of [
      ['spec', spec],
      ['status', status],
    ] as const) {
      out.push(`### ${heading} ${part}`, '');
      const rows = fieldRows(schema);
      if (rows.length === 0) out.push(`No ${part} fields.`, '');
      else out.push(`Fields under ${code(part)}.`, '', ...fieldTable(rows, { defaults: true }), '');
    }
    const rules = [...ruleRows(spec, 'spec'), ...ruleRows(status, 'status')];
    out.push(`### ${heading} validation rules`, '');
    if (rules.length === 0) out.push('No CEL rules.', '');
    else {
      out.push(
        'CEL rules (`x-kubernetes-validations`) the API server checks on every write; the manager API checks',
        'the same rules before it stores anything. `On` is the field the rule is attached to (its `self`).',
        '',
        ...ruleTable(rules),
        '',
      );
    }
  }
  return out;
}

/** docs/reference/crds.md: every kind's names, printer columns, fields and CEL rules, in definition order. */
export function renderCrdDocs(defs: CrdDefinition[] = crdDefinitions): string {
  const out: string[] = [
    '<!-- Generated from src/schemas/crds by `npm run gen`; do not edit. A test fails when it is stale. -->',
    '',
    '# Custom resources',
    '',
    'The kinds kubeOP defines, rendered from the TypeBox schemas in `src/schemas/crds` — the same schemas',
    'the CustomResourceDefinitions in `deploy/crds` are generated from and the manager API validates',
    'request bodies with. Field paths are relative to `spec` or `status`; `[]` opens the entries of a',
    'list and `*` the values of a map.',
    '',
    ...table(
      ['Kind', 'Scope', 'Short names', 'Description'],
      defs.map((d) => [
        `[${d.kind}](#${d.kind.toLowerCase()})`,
        d.scope,
        d.shortNames.map(code).join(', '),
        d.description,
      ]),
    ),
    '',
  ];
  for (const def of defs) out.push(...renderKind(def));
  return `${out.join('\n').trimEnd()}\n`;
}

if (import.meta.main) {
  const target = new URL('../docs/reference/crds.md', import.meta.url);
  writeFileSync(target, renderCrdDocs());
  console.log(`wrote ${target.pathname}`);
}
