import { describe, expect, it } from 'vitest';
import { requestValidatorCompiler } from './validation.ts';

const schema = {
  type: 'object',
  properties: { replicas: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
};
const compile = requestValidatorCompiler();
const check = (httpPart: string, data: Record<string, unknown>) => {
  const validate = compile({ schema, httpPart, method: 'PUT', url: '/x' });
  const ok = validate(data);
  return { ok, data };
};

describe('request validation', () => {
  it('a body is validated as sent: null, "3" and true are not integers', () => {
    for (const replicas of [null, '3', true]) {
      expect(check('body', { replicas })).toEqual({ ok: false, data: { replicas } });
    }
    expect(check('body', { tags: 'x' }).ok).toBe(false);
    expect(check('body', { replicas: 3 }).ok).toBe(true);
  });

  it('path, query and headers are text and are coerced', () => {
    for (const part of ['params', 'querystring', 'headers']) {
      expect(check(part, { replicas: '3', tags: 'x' })).toEqual({
        ok: true,
        data: { replicas: 3, tags: ['x'] },
      });
    }
  });

  it('reports every violation and knows the standard formats', () => {
    const validate = compile({
      schema: {
        type: 'object',
        properties: { id: { type: 'string', format: 'uuid' }, n: { type: 'integer' } },
      },
      httpPart: 'body',
      method: 'POST',
      url: '/x',
    });
    expect(validate({ id: 'nope', n: 'x' })).toBe(false);
    expect((validate as { errors?: unknown[] }).errors).toHaveLength(2);
  });
});
