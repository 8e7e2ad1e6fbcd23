import type { ApiError } from '../../platform/problem.ts';
import { forbidden } from '../http/errors.ts';
import { decide, refusal, type ActionName, type Target } from './policy.ts';
import type { Principal } from './principal.ts';

/**
 * Throws unless the policy allows `action` on `target`: 403 when the caller may see the target,
 * `hidden()` (a 404 naming what was asked for) when it may not, so a refusal reveals nothing.
 * Platform actions (no target) are never hidden, so they need no `hidden`.
 */
export function authorize(
  call: { principal: Principal },
  action: ActionName,
  target: Target = {},
  hidden?: () => ApiError,
): void {
  const decision = decide(call.principal, action, target);
  if (decision === 'allow') return;
  throw decision === 'hidden' && hidden ? hidden() : forbidden(refusal(action));
}
