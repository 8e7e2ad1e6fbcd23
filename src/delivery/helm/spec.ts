import type { Static } from 'typebox';
import type { HelmSource } from '../../schemas/crds/app.ts';

/** `spec.source.helm` of an App. */
export type HelmSourceSpec = Static<typeof HelmSource>;
