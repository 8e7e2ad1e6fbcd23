import { fileURLToPath } from 'node:url';
import { siteConfig } from './site.ts';

// `npm run docs:dev` / `docs:build` / `docs:preview`; everything is in site.ts.
export default siteConfig(fileURLToPath(new URL('..', import.meta.url)));
