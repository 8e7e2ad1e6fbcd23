import { ApiError } from '../../platform/problem.ts';

/** The manager's stable error codes; each maps to one HTTP status. */
export const notFound = (kind: string, name: string) =>
  new ApiError(404, `KUBEOP_ERR_${kind.toUpperCase()}_NOT_FOUND`, `${kind} "${name}" not found`);
export const alreadyExists = (kind: string, name: string) =>
  new ApiError(
    409,
    `KUBEOP_ERR_${kind.toUpperCase()}_EXISTS`,
    `${kind} "${name}" already exists; choose another name`,
  );
export const forbidden = (detail: string) => new ApiError(403, 'KUBEOP_ERR_FORBIDDEN', detail);
export const unauthenticated = (detail: string) => new ApiError(401, 'KUBEOP_ERR_UNAUTHENTICATED', detail);
export const preconditionFailed = (kind: string, name: string) =>
  new ApiError(
    412,
    'KUBEOP_ERR_PRECONDITION_FAILED',
    `${kind} "${name}" changed since the ETag you sent; GET it again and retry`,
  );
export const badRequest = (code: string, detail: string) => new ApiError(400, `KUBEOP_ERR_${code}`, detail);
export const conflict = (code: string, detail: string) => new ApiError(409, `KUBEOP_ERR_${code}`, detail);

/** PostgreSQL's unique-violation, from either driver. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === '23505';
}
