// Regenerates the files derived from schemas. `npm run gen`; tests fail while they are stale.
import { writeFileSync } from 'node:fs';
import { renderConfigDocs } from '../src/platform/config-docs.ts';

const target = new URL('../docs/reference/configuration.md', import.meta.url);
writeFileSync(target, renderConfigDocs());
console.log(`wrote ${target.pathname}`);
