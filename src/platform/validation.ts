import { Ajv, type Options, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Request validation with two ajv instances, chosen by the part of the request a schema checks.
 *
 * Path, query string and headers arrive as text, so their schemas coerce (`?limit=5` is the integer
 * 5, a single `?tag=x` is the array `["x"]`). A JSON body already has types, and coercing them would
 * change what the caller said: `"replicas": null` would become 0 and scale an App to zero, `"3"`
 * would become 3, `true` 1, and a name `4711` the string "4711". So bodies are validated as sent,
 * and a value of the wrong JSON type is a 400 naming the field.
 */
const shared: Options = {
  // Schemas carry Kubernetes extensions (x-kubernetes-*), which are not validation keywords.
  strict: false,
  // Unknown properties are refused (where a schema closes an object), never silently dropped.
  removeAdditional: false,
  // Every violation is reported, not just the first.
  allErrors: true,
  useDefaults: true,
};

function withFormats(ajv: Ajv): Ajv {
  ajvFormats.default(ajv);
  return ajv;
}

/** The validator compiler of every kubeOP HTTP server (see above). */
export function requestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = withFormats(new Ajv({ ...shared, coerceTypes: false }));
  const text = withFormats(new Ajv({ ...shared, coerceTypes: 'array' }));
  return ({ schema, httpPart }): ValidateFunction =>
    (httpPart === 'body' ? body : text).compile(schema as object);
}
