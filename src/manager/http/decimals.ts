import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../platform/problem.ts';

/**
 * Refuses a JSON number where the API takes a decimal string (quantities, prices, amounts). The
 * schema alone would coerce `0.1` to `"0.1"`; refusing it instead keeps the contract that money and
 * usage never pass through a binary float, not even in the client's JSON encoder.
 */
export function decimalsAsStrings(fields: readonly string[]) {
  const wanted = new Set(fields);
  return async (req: FastifyRequest): Promise<void> => {
    const errors: Array<{ path: string; message: string }> = [];
    const walk = (v: unknown, path: string) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}/${i}`));
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (wanted.has(k) && typeof x === 'number')
            errors.push({
              path: `${path}/${k}`,
              message: 'must be a decimal string such as "0.25", not a JSON number',
            });
          else walk(x, `${path}/${k}`);
        }
    };
    walk(req.body, '');
    if (errors.length > 0)
      throw new ApiError(
        400,
        'KUBEOP_ERR_VALIDATION',
        `${errors[0]!.path}: send decimals as strings ("0.25"), never as JSON numbers`,
        { errors },
      );
  };
}
