// Writes docs/reference/api.md from the manager's OpenAPI document (what /openapi.json serves).
// Part of `npm run gen`; a test fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import type { Database } from '../src/db/database.ts';
import { registerManagerApi } from '../src/manager/http/api.ts';
import { HealthChecks } from '../src/platform/health.ts';
import { createServiceServer } from '../src/platform/http-server.ts';
import { createLogger } from '../src/platform/logging.ts';
import { createServiceMetrics } from '../src/platform/metrics.ts';
import { forRequest, RoleName } from '../src/schemas/api.ts';
import { crdDefinitions } from '../src/schemas/crds/definitions.ts';
import {
  code,
  constraintsOf,
  fieldRows,
  fieldTable,
  ruleRows,
  ruleTable,
  table,
  typeName,
  type JsonSchema,
} from './schema-fields.ts';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: JsonSchema;
}

interface MediaTypes {
  [contentType: string]: { schema?: JsonSchema };
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  deprecated?: boolean;
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; description?: string; content?: MediaTypes };
  responses?: Record<string, { description?: string; content?: MediaTypes }>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  security?: Array<Record<string, string[]>>;
  components?: { securitySchemes?: Record<string, { type?: string; scheme?: string; description?: string }> };
}

/** Registration must not touch the database; if it ever does, generation fails loudly here. */
const refuse = () => Promise.reject(new Error('gen-api-docs: the API document is built without a database'));
const noDatabase: Database = {
  driver: 'pglite',
  query: refuse,
  exec: refuse,
  transaction: refuse,
  ping: refuse,
  close: () => Promise.resolve(),
};

/**
 * The manager's OpenAPI document, built in process exactly as the manager builds it (the same
 * routes on the same service server), without a database, a listener or any network.
 */
export async function buildOpenApiDocument(): Promise<OpenApiDocument> {
  const logger = createLogger({
    service: 'gen-api-docs',
    level: 'silent',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const app = createServiceServer({
    logger,
    health: new HealthChecks(1000),
    metrics: createServiceMetrics(),
    version: { service: 'manager', version: 'reference', gitCommit: 'reference', buildDate: 'reference' },
  });
  try {
    await registerManagerApi(app, { db: noDatabase, logger, rateLimitPerMinute: 60, version: 'reference' });
    await app.ready();
    return JSON.parse(JSON.stringify(app.swagger())) as OpenApiDocument;
  } finally {
    await app.close();
  }
}

const methodOrder = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];

const statusMeanings: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'No Content',
  '400': 'Bad Request: invalid input (path, query, headers or body)',
  '401': 'Unauthorized: no valid bearer token',
  '403': "Forbidden: the token's role or scope does not allow this",
  '404': 'Not Found: the resource, or one it belongs to, does not exist',
  '409': 'Conflict: it exists already, or its current state does not allow this',
  '412': 'Precondition Failed: the `If-Match` ETag is not the current version',
  '413': 'Content Too Large',
  '415': 'Unsupported Media Type',
  '422': 'Unprocessable Content: well-formed, but cannot be carried out as sent',
  '429': 'Too Many Requests: the rate limit is exceeded',
  '500': 'Internal Server Error',
  '503': 'Service Unavailable: something the request needs cannot be reached now; retry later',
};

const roles = (RoleName as unknown as { enum: string[] }).enum;

/** The roles an operation's summary or description names, in the order they appear. */
function rolesNamed(op: Operation): string[] {
  const text = `${op.summary ?? ''} ${op.description ?? ''}`;
  return roles
    .map((role) => ({ role, at: text.search(new RegExp(`(?<![\\w-])${role}(?![\\w-])`)) }))
    .filter((r) => r.at >= 0)
    .sort((a, b) => a.at - b.at)
    .map((r) => r.role);
}

const isProblem = (s: JsonSchema | undefined) => {
  const props = s?.properties as Record<string, unknown> | undefined;
  return !!props && 'code' in props && 'status' in props && 'title' in props;
};

/** Error codes a response lists: in its description, or as the enum/examples of the problem `code`. */
function errorCodes(response: { description?: string; content?: MediaTypes }): string[] {
  const found = new Set<string>(response.description?.match(/KUBEOP_ERR_[A-Z0-9_]+/g) ?? []);
  for (const media of Object.values(response.content ?? {})) {
    const codeSchema = (media.schema?.properties as Record<string, JsonSchema> | undefined)?.code;
    for (const key of ['enum', 'examples'] as const) {
      const values = codeSchema?.[key];
      if (Array.isArray(values)) for (const v of values) found.add(String(v));
    }
    if (typeof codeSchema?.const === 'string') found.add(codeSchema.const);
  }
  return [...found].sort();
}

const plainJson = (s: unknown) => JSON.parse(JSON.stringify(s)) as JsonSchema;

/**
 * The CRD whose spec a request field is (the same schema, request-closed), possibly without some of
 * its fields (a project body leaves `tenantRef` to the path); such fields link to crds.md instead of
 * repeating its tables.
 */
function crdSpecOf(s: JsonSchema): { kind: string; omitted: string[] } | undefined {
  const props = s.properties as JsonSchema | undefined;
  if (!props) return undefined;
  for (const def of crdDefinitions) {
    const full = plainJson(forRequest(def.spec));
    const fullProps = full.properties as JsonSchema;
    const omitted = Object.keys(fullProps).filter((k) => !(k in props));
    if (Object.keys(props).some((k) => !(k in fullProps))) continue;
    const required = ((full.required as string[] | undefined) ?? []).filter((r) => !omitted.includes(r));
    const reduced: JsonSchema = {
      ...full,
      properties: Object.fromEntries(Object.entries(fullProps).filter(([k]) => !omitted.includes(k))),
    };
    if (required.length > 0) reduced.required = required;
    else delete reduced.required;
    if (isDeepStrictEqual(reduced, s)) return { kind: def.kind, omitted };
  }
  return undefined;
}

/** The request body with every CRD spec field replaced by a link to its reference. */
function linkCrdSpecs(body: JsonSchema): JsonSchema {
  const props = body.properties as Record<string, JsonSchema> | undefined;
  if (!props) return body;
  const out: Record<string, JsonSchema> = {};
  for (const [key, s] of Object.entries(props)) {
    const match = crdSpecOf(s);
    if (!match) {
      out[key] = s;
      continue;
    }
    const without = match.omitted.length > 0 ? `, without ${match.omitted.map(code).join(', ')}` : '';
    const anchor = `${match.kind.toLowerCase()}-spec`;
    out[key] = {
      type: 'object',
      description: `The ${match.kind} spec${without}: fields and CEL rules in [crds.md](crds.md#${anchor}).`,
    };
  }
  return { ...body, properties: out };
}

/** A one-line shape of a response body: its top-level fields, and those of listed objects. */
function shapeOf(s: JsonSchema | undefined): string {
  if (!s) return '';
  if (isProblem(s)) return '[problem](#errors)';
  const props = s.properties as Record<string, JsonSchema> | undefined;
  if (!props || Object.keys(props).length === 0) return typeName(s);
  const fields = Object.entries(props).map(([key, child]) => {
    const items = child.type === 'array' ? (child.items as JsonSchema | undefined) : undefined;
    const itemProps = items?.properties as JsonSchema | undefined;
    if (itemProps) return `${code(`${key}[]`)} (${Object.keys(itemProps).map(code).join(', ')})`;
    return code(key);
  });
  return `object: ${fields.join(', ')}`;
}

/** Path parameters in the order the path names them, then query, header and cookie ones by name. */
function renderParameters(path: string, params: Parameter[]): string[] {
  if (params.length === 0) return [];
  const inOrder = ['path', 'query', 'header', 'cookie'];
  const position = (p: Parameter) => (p.in === 'path' ? path.indexOf(`{${p.name}}`) : 0);
  const sorted = [...params].sort(
    (a, b) =>
      inOrder.indexOf(a.in) - inOrder.indexOf(b.in) ||
      position(a) - position(b) ||
      a.name.localeCompare(b.name),
  );
  return [
    '**Parameters**',
    '',
    ...table(
      ['Name', 'In', 'Type', 'Required', 'Default', 'Constraints', 'Description'],
      sorted.map((p) => {
        const s = p.schema ?? {};
        return [
          code(p.name),
          p.in,
          typeName(s),
          p.required || p.in === 'path' ? 'yes' : '',
          s.default === undefined ? '' : code(JSON.stringify(s.default)),
          constraintsOf(s).join('; '),
          p.description ?? (typeof s.description === 'string' ? s.description : ''),
        ];
      }),
    ),
    '',
  ];
}

function renderRequestBody(body: Operation['requestBody']): string[] {
  if (!body?.content) return [];
  const out: string[] = [];
  for (const [type, media] of Object.entries(body.content).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`**Request body** (${code(type)}${body.required ? ', required' : ''})`, '');
    if (body.description) out.push(body.description, '');
    if (!media.schema) continue;
    const schema = linkCrdSpecs(media.schema);
    const rows = fieldRows(schema);
    if (rows.length === 0) out.push(`A ${typeName(schema)}.`, '');
    else out.push(...fieldTable(rows), '');
    const rules = ruleRows(schema);
    if (rules.length > 0) out.push('CEL rules on the body:', '', ...ruleTable(rules), '');
  }
  return out;
}

function renderResponses(responses: Operation['responses']): string[] {
  const entries = Object.entries(responses ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return [];
  const rows = entries.map(([status, r]) => {
    const own = r.description && r.description !== 'Default Response' ? r.description.trim() : '';
    const codes = errorCodes(r);
    const meaning = [
      statusMeanings[status] ?? `HTTP ${status}`,
      own ? `— ${own}` : '',
      codes.length > 0 ? `Codes: ${codes.map(code).join(', ')}.` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const media = Object.entries(r.content ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const body = media
      .map(([type, m]) => {
        const shape = shapeOf(m.schema);
        if (shape.startsWith('[problem]')) return shape;
        return shape && type === 'application/json' ? shape : `${code(type)}${shape ? ` ${shape}` : ''}`;
      })
      .filter((b, i, all) => all.indexOf(b) === i)
      .join('; ');
    return [code(status), meaning, body];
  });
  return ['**Responses**', '', ...table(['Status', 'Meaning', 'Body'], rows), ''];
}

function renderOperation(method: string, path: string, op: Operation, authenticated: boolean): string[] {
  const out: string[] = [`### ${code(`${method.toUpperCase()} ${path}`)}`, ''];
  if (op.summary) out.push(`${op.summary}${/[.!?]$/.test(op.summary) ? '' : '.'}`, '');
  if (op.description) out.push(op.description, '');
  if (op.deprecated) out.push('**Deprecated.**', '');
  const named = rolesNamed(op);
  const notes: string[] = [];
  if (named.length > 0) notes.push(`**Role${named.length > 1 ? 's' : ''}:** ${named.map(code).join(', ')}`);
  const opAuth = op.security ? op.security.length > 0 : authenticated;
  if (!opAuth) notes.push('**Authentication:** none');
  if (notes.length > 0) out.push(notes.join(' · '), '');
  out.push(...renderParameters(path, op.parameters ?? []));
  out.push(...renderRequestBody(op.requestBody));
  out.push(...renderResponses(op.responses));
  return out;
}

interface Entry {
  tag: string;
  method: string;
  path: string;
  op: Operation;
}

function entriesByTag(doc: OpenApiDocument): Map<string, Entry[]> {
  const entries: Entry[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!methodOrder.includes(method)) continue;
      for (const tag of op.tags && op.tags.length > 0 ? op.tags : ['other'])
        entries.push({ tag, method, path, op });
    }
  }
  entries.sort(
    (a, b) =>
      a.tag.localeCompare(b.tag) ||
      a.path.localeCompare(b.path) ||
      methodOrder.indexOf(a.method) - methodOrder.indexOf(b.method),
  );
  const byTag = new Map<string, Entry[]>();
  for (const e of entries) byTag.set(e.tag, [...(byTag.get(e.tag) ?? []), e]);
  return byTag;
}

/** The problem schema of the first error response, for the Errors section. */
function problemSchema(doc: OpenApiDocument): JsonSchema | undefined {
  for (const path of Object.keys(doc.paths).sort()) {
    for (const op of Object.values(doc.paths[path] ?? {})) {
      for (const r of Object.values(op.responses ?? {})) {
        for (const m of Object.values(r.content ?? {})) if (isProblem(m.schema)) return m.schema;
      }
    }
  }
  return undefined;
}

/** docs/reference/api.md: every documented operation, grouped by tag, sorted by path and method. */
export function renderApiDocs(doc: OpenApiDocument): string {
  const byTag = entriesByTag(doc);
  const authenticated = (doc.security ?? []).length > 0;
  const schemes = Object.entries(doc.components?.securitySchemes ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  const out: string[] = [
    "<!-- Generated from the manager's OpenAPI document by `npm run gen`; do not edit. A test fails when it is stale. -->",
    '',
    `# ${doc.info.title} reference`,
    '',
  ];
  if (doc.info.description) out.push(doc.info.description, '');
  out.push(
    `The manager serves this API's OpenAPI ${doc.openapi} document at \`/openapi.json\` and a browsable`,
    'view of it at `/docs`; this page is rendered from the same document. Request bodies that carry a',
    'custom resource spec link to its fields in the [custom resource reference](crds.md).',
    '',
  );
  if (authenticated && schemes.length > 0) {
    out.push(
      'Authentication: every operation needs a bearer token (`Authorization: Bearer <token>`) unless it says',
      'otherwise.',
      '',
      ...schemes.map(
        ([name, s]) =>
          `- ${code(name)} (${[s.type, s.scheme].filter(Boolean).join(', ')}): ${s.description ?? ''}`,
      ),
      '',
      'A **Role** line lists the roles an operation names; what each role may do is in',
      '[authentication](../security/authentication.md).',
      '',
    );
  }

  out.push('## Operations', '');
  const overview: string[][] = [];
  for (const [tag, entries] of byTag) {
    for (const e of entries) {
      overview.push([
        `[${tag}](#${tag.toLowerCase()})`,
        e.method.toUpperCase(),
        code(e.path),
        e.op.summary ?? '',
      ]);
    }
  }
  out.push(...table(['Tag', 'Method', 'Path', 'Summary'], overview), '');

  const problem = problemSchema(doc);
  if (problem) {
    const statuses = new Set<string>();
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) for (const s of Object.keys(op.responses ?? {})) statuses.add(s);
    }
    out.push(
      '## Errors',
      '',
      'Every error is an RFC 9457 problem (`application/problem+json`) with a stable `code`',
      '(`KUBEOP_ERR_*`); branch on `code`, never on `detail`. How input is checked, and which code each',
      'check answers with, is in [API validation](api-validation.md).',
      '',
      ...fieldTable(fieldRows(problem)),
      '',
      'The statuses the operations below document:',
      '',
      ...table(
        ['Status', 'Meaning'],
        [...statuses].sort().map((s) => [code(s), statusMeanings[s] ?? `HTTP ${s}`]),
      ),
      '',
    );
  }

  for (const [tag, entries] of byTag) {
    out.push(`## ${tag}`, '');
    for (const e of entries) out.push(...renderOperation(e.method, e.path, e.op, authenticated));
  }
  return `${out.join('\n').trimEnd()}\n`;
}

if (import.meta.main) {
  const target = new URL('../docs/reference/api.md', import.meta.url);
  writeFileSync(target, renderApiDocs(await buildOpenApiDocument()));
  console.log(`wrote ${target.pathname}`);
}
