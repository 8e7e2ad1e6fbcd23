import { setCondition, type Condition } from '../../../domain/conditions.ts';
import type { AppStatus } from '../../../schemas/crds/app.ts';
import type { Readiness } from './readiness.ts';

export type Phase = NonNullable<AppStatus['phase']>;

/** What one reconcile of an App came to; the conditions and phase follow from it alone. */
export type Outcome =
  /** The desired revision is applied; its workloads are in `readiness`. */
  | { kind: 'Deployed'; revision: number; sourceRevision: string; readiness: Readiness }
  /** The desired revision could not be rendered or applied; `running` says whether an older one still runs. */
  | { kind: 'Failed'; reason: string; message: string; running: boolean }
  /** Nothing can happen yet (the namespace is not a ready project namespace). */
  | { kind: 'Waiting'; reason: string; message: string };

/**
 * The Ready, Progressing and Degraded conditions and the phase. Ready is the summary: True only
 * when the desired revision is applied and its workloads are available. Degraded says why the
 * desired revision is not running — with the last good revision left in place (phase Degraded) or
 * none at all (phase Failed).
 */
export function appConditions(
  previous: readonly Condition[] | undefined,
  outcome: Outcome,
  generation: number,
  now: Date,
): { phase: Phase; conditions: Condition[] } {
  const set = (
    list: readonly Condition[] | undefined,
    c: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>,
  ) => setCondition(list, { ...c, observedGeneration: generation }, now);
  let conditions: Condition[];
  let phase: Phase;
  if (outcome.kind === 'Waiting') {
    conditions = set(previous, {
      type: 'Ready',
      status: 'False',
      reason: outcome.reason,
      message: outcome.message,
    });
    conditions = set(conditions, {
      type: 'Progressing',
      status: 'False',
      reason: outcome.reason,
      message: outcome.message,
    });
    conditions = set(conditions, { type: 'Degraded', status: 'False', reason: outcome.reason, message: '' });
    return { phase: 'Pending', conditions };
  }
  if (outcome.kind === 'Failed') {
    const message = outcome.running
      ? `${outcome.message}; the last good revision keeps running`
      : outcome.message;
    conditions = set(previous, { type: 'Ready', status: 'False', reason: outcome.reason, message });
    conditions = set(conditions, { type: 'Progressing', status: 'False', reason: outcome.reason, message });
    conditions = set(conditions, { type: 'Degraded', status: 'True', reason: outcome.reason, message });
    phase = outcome.running ? 'Degraded' : 'Failed';
    return { phase, conditions };
  }
  const { readiness, revision, sourceRevision } = outcome;
  const what = `revision ${revision} (${sourceRevision})`;
  if (readiness.state === 'Available') {
    conditions = set(previous, {
      type: 'Ready',
      status: 'True',
      reason: 'Available',
      message: `${what} is available`,
    });
    conditions = set(conditions, {
      type: 'Progressing',
      status: 'False',
      reason: 'Complete',
      message: `${what} is rolled out`,
    });
    conditions = set(conditions, { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' });
    phase = 'Ready';
  } else if (readiness.state === 'Progressing') {
    conditions = set(previous, {
      type: 'Ready',
      status: 'False',
      reason: 'RollingOut',
      message: readiness.message,
    });
    conditions = set(conditions, {
      type: 'Progressing',
      status: 'True',
      reason: 'RollingOut',
      message: `${what}: ${readiness.message}`,
    });
    conditions = set(conditions, { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' });
    phase = 'Progressing';
  } else {
    conditions = set(previous, {
      type: 'Ready',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: readiness.message,
    });
    conditions = set(conditions, {
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: readiness.message,
    });
    conditions = set(conditions, {
      type: 'Degraded',
      status: 'True',
      reason: 'ProgressDeadlineExceeded',
      message: `${what}: ${readiness.message}`,
    });
    phase = 'Degraded';
  }
  return { phase, conditions };
}
