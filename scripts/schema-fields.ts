// JSON Schema → Markdown tables, shared by the generated references (gen-api-docs.ts, gen-crd-docs.ts).
// Pure functions of the schema: the same schema always renders the same text.

export type JsonSchema = Record<string, unknown>;

/** One field of a schema, flattened: `owners[].kind`, `labels.*`. */
export interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  default: string;
  constraints: string;
  description: string;
}

/** One `x-kubernetes-validations` rule and the field its `self` is bound to. */
export interface RuleRow {
  path: string;
  rule: string;
  message: string;
  fieldPath: string;
  reason: string;
}

const isSchema = (v: unknown): v is JsonSchema => !!v && typeof v === 'object' && !Array.isArray(v);

/** An inline code span that survives backticks in its content. */
export function code(value: string): string {
  const fence = value.includes('`') ? '``' : '`';
  const pad = value.startsWith('`') || value.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${value}${pad}${fence}`;
}

/** Text safe inside a Markdown table cell: one line, pipes escaped. */
export function cell(value: string): string {
  return value.replace(/\s*\n\s*/g, ' ').replaceAll('|', '\\|');
}

export function tableRow(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

export function table(header: string[], rows: string[][]): string[] {
  return [tableRow(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(tableRow)];
}

/** The enum values of a schema, also when written as TypeBox's union of single-value enums. */
function enumValues(s: JsonSchema): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  if (s.const !== undefined) return [s.const];
  const branches = s.anyOf ?? s.oneOf;
  if (Array.isArray(branches) && branches.length > 0) {
    const values: unknown[] = [];
    for (const b of branches) {
      const v = isSchema(b) ? enumValues(b) : undefined;
      if (!v) return undefined;
      values.push(...v);
    }
    return values;
  }
  return undefined;
}

const freeForm = (s: JsonSchema) => s['x-kubernetes-preserve-unknown-fields'] === true;
const hasProperties = (s: JsonSchema) => isSchema(s.properties) && Object.keys(s.properties).length > 0;

/** A short type name: `string`, `array of object`, `map of string`, `string or null`. */
export function typeName(s: JsonSchema): string {
  const branches = s.anyOf ?? s.oneOf;
  if (Array.isArray(branches)) {
    if (enumValues(s)) {
      const types = new Set(branches.filter(isSchema).map((b) => typeName(b)));
      return [...types].join(' or ');
    }
    return [...new Set(branches.filter(isSchema).map((b) => typeName(b)))].join(' or ');
  }
  if (Array.isArray(s.type)) return (s.type as string[]).join(' or ');
  if (s.type === 'array') return `array of ${isSchema(s.items) ? typeName(s.items) : 'any'}`;
  if (s.type === 'object') {
    if (freeForm(s)) {
      return s['x-kubernetes-embedded-resource'] === true
        ? 'object (Kubernetes object)'
        : 'object (free-form)';
    }
    if (isSchema(s.additionalProperties) && !hasProperties(s)) {
      return `map of ${typeName(s.additionalProperties)}`;
    }
    return 'object';
  }
  if (typeof s.type === 'string') return s.type;
  return 'any';
}

function range(min: unknown, max: unknown, unit: string): string | undefined {
  const u = unit ? ` ${unit}` : '';
  if (min !== undefined && max !== undefined) return `${String(min)}–${String(max)}${u}`;
  if (min !== undefined) return `≥ ${String(min)}${u}`;
  if (max !== undefined) return `≤ ${String(max)}${u}`;
  return undefined;
}

/** The validation keywords of one schema node, in words (CEL rules are listed separately). */
export function constraintsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  const values = enumValues(s);
  if (values) out.push(`one of ${values.map((v) => code(String(v))).join(', ')}`);
  const length = range(s.minLength, s.maxLength, 'characters');
  if (length) out.push(length);
  const value = range(s.minimum ?? s.exclusiveMinimum, s.maximum ?? s.exclusiveMaximum, '');
  if (value)
    out.push(
      s.exclusiveMinimum !== undefined || s.exclusiveMaximum !== undefined ? `${value} (exclusive)` : value,
    );
  const items = range(s.minItems, s.maxItems, 'items');
  if (items) out.push(items);
  const entries = range(s.minProperties, s.maxProperties, 'entries');
  if (entries) out.push(entries);
  if (s.uniqueItems === true) out.push('unique items');
  if (typeof s.format === 'string') out.push(`format ${code(s.format)}`);
  if (typeof s.pattern === 'string') out.push(`pattern ${code(s.pattern)}`);
  if (s['x-kubernetes-list-type'] === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
    out.push(`keyed by ${(s['x-kubernetes-list-map-keys'] as string[]).map(code).join(', ')}`);
  } else if (s['x-kubernetes-list-type'] === 'set') out.push('a set');
  if (s['x-kubernetes-int-or-string'] === true) out.push('integer or string');
  return out;
}

const join = (parts: string[]) => parts.filter(Boolean).join('; ');
const describe = (s: JsonSchema) => (typeof s.description === 'string' ? s.description : '');
const defaultOf = (s: JsonSchema) => (s.default === undefined ? '' : code(JSON.stringify(s.default)));

/** What an array or map says about each of its scalar entries, folded into its own row. */
function entryNotes(entry: JsonSchema): { constraints: string; description: string } {
  const c = constraintsOf(entry);
  const d = describe(entry);
  return { constraints: c.length > 0 ? `each: ${join(c)}` : '', description: d ? `Each: ${d}` : '' };
}

const childPath = (parent: string, key: string) => (parent ? `${parent}.${key}` : key);

/**
 * Every field below `schema`, depth first in declaration order. Arrays of objects and maps of
 * objects are opened as `path[].field` and `path.*.field`; scalar entries are folded into the row of
 * their array or map. Free-form objects are not opened.
 */
export function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const rows: FieldRow[] = [];
  const visit = (s: JsonSchema, path: string, required: boolean) => {
    const row: FieldRow = {
      path,
      type: typeName(s),
      required,
      default: defaultOf(s),
      constraints: join(constraintsOf(s)),
      description: describe(s),
    };
    const entry = s.type === 'array' ? s.items : hasProperties(s) ? undefined : s.additionalProperties;
    const opensEntry = isSchema(entry) && (hasProperties(entry) || isSchema(entry.items));
    if (isSchema(entry) && !opensEntry) {
      const notes = entryNotes(entry);
      row.constraints = join([row.constraints, notes.constraints]);
      row.description = [row.description, notes.description].filter(Boolean).join(' ');
    }
    if (path) rows.push(row);
    if (freeForm(s)) return;
    if (isSchema(s.properties)) {
      const req = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
      for (const [key, child] of Object.entries(s.properties)) {
        if (isSchema(child)) visit(child, childPath(path, key), req.has(key));
      }
    }
    if (isSchema(entry) && opensEntry) {
      const entryPath = s.type === 'array' ? `${path}[]` : childPath(path, '*');
      if (hasProperties(entry) && !isSchema(entry.items)) {
        // The entry's own row would repeat its container's; open its fields directly.
        const req = new Set(Array.isArray(entry.required) ? (entry.required as string[]) : []);
        for (const [key, child] of Object.entries(entry.properties as JsonSchema)) {
          if (isSchema(child)) visit(child, childPath(entryPath, key), req.has(key));
        }
      } else visit(entry, entryPath, true);
    }
  };
  visit(schema, prefix, true);
  return rows;
}

/** Every `x-kubernetes-validations` rule at or below `schema`, with the path its `self` is bound to. */
export function ruleRows(schema: JsonSchema, prefix = ''): RuleRow[] {
  const rows: RuleRow[] = [];
  const visit = (s: JsonSchema, path: string) => {
    const rules = s['x-kubernetes-validations'];
    if (Array.isArray(rules)) {
      for (const r of rules.filter(isSchema)) {
        rows.push({
          path,
          rule: String(r.rule),
          message: typeof r.message === 'string' ? r.message : '',
          fieldPath: typeof r.fieldPath === 'string' ? r.fieldPath : '',
          reason: typeof r.reason === 'string' ? r.reason : '',
        });
      }
    }
    if (isSchema(s.properties)) {
      for (const [key, child] of Object.entries(s.properties)) {
        if (isSchema(child)) visit(child, childPath(path, key));
      }
    }
    if (isSchema(s.items)) visit(s.items, `${path}[]`);
    if (isSchema(s.additionalProperties)) visit(s.additionalProperties, childPath(path, '*'));
  };
  visit(schema, prefix);
  return rows;
}

export function fieldTable(rows: FieldRow[], opts: { defaults?: boolean } = {}): string[] {
  const withDefaults = opts.defaults ?? rows.some((r) => r.default);
  const header = [
    'Field',
    'Type',
    'Required',
    ...(withDefaults ? ['Default'] : []),
    'Constraints',
    'Description',
  ];
  return table(
    header,
    rows.map((r) => [
      code(r.path),
      r.type,
      r.required ? 'yes' : '',
      ...(withDefaults ? [r.default] : []),
      r.constraints,
      r.description,
    ]),
  );
}

/** The field a rule's error names: its `fieldPath` (`.owners`) below the rule's own path. */
function reportedAt(r: RuleRow): string {
  return r.path ? `${r.path}${r.fieldPath}` : r.fieldPath.replace(/^\./, '');
}

/**
 * Rules by the field they are attached to; one rule repeated on several fields (a quantity check on
 * every quantity) is one row naming all of them.
 */
export function ruleTable(rows: RuleRow[]): string[] {
  const groups: Array<{ paths: string[]; row: RuleRow }> = [];
  for (const row of rows) {
    const same = row.fieldPath
      ? undefined
      : groups.find(
          (g) =>
            !g.row.fieldPath &&
            g.row.rule === row.rule &&
            g.row.message === row.message &&
            g.row.reason === row.reason,
        );
    if (same) same.paths.push(row.path);
    else groups.push({ paths: [row.path], row });
  }
  return table(
    ['On', 'Message', 'Rule'],
    groups.map(({ paths, row: r }) => [
      paths.map((p) => code(p || '(root)')).join(', '),
      [r.message, r.fieldPath ? `(reported at ${code(reportedAt(r))})` : '', r.reason ? `(${r.reason})` : '']
        .filter(Boolean)
        .join(' '),
      code(r.rule),
    ]),
  );
}
