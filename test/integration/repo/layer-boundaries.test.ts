import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The import-boundary rules in eslint.config.js, checked against imports that break them, so a
// config edit that silently disables a boundary fails here rather than in review.
const eslint = new ESLint();

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer boundaries', () => {
  it.each([
    ['src/domain/x.ts', "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n"],
    ['src/domain/x.ts', "import pg from 'pg';\nexport const a = pg;\n"],
    ['src/schemas/x.ts', "import { openDatabase } from '../db/open.ts';\nexport const a = openDatabase;\n"],
    ['src/manager/x.ts', "import { a } from '../operator/y.ts';\nexport const b = a;\n"],
    ['src/operator/x.ts', "import { a } from '../admission/y.ts';\nexport const b = a;\n"],
    ['src/admission/x.ts', "import { a } from '../manager/tenancy/y.ts';\nexport const b = a;\n"],
    ['src/manager/billing/x.ts', "import { a } from '../../operator/metering/y.ts';\nexport const b = a;\n"],
    ['src/domain/billing/x.ts', "import { a } from '../../manager/billing/y.ts';\nexport const b = a;\n"],
    ['src/kube/x.ts', "import { a } from '../manager/outbox/y.ts';\nexport const b = a;\n"],
    ['src/admission/x.ts', "import { a } from '../main/y.ts';\nexport const b = a;\n"],
    ['src/platform/x.ts', "import { a } from '../manager/y.ts';\nexport const b = a;\n"],
  ])('%s may not import what it imports here (%#)', async (file, code) => {
    expect(await violations(file, code)).not.toEqual([]);
  });

  it.each([
    ['src/domain/x.ts', "import { a } from '../schemas/y.ts';\nexport const b = a;\n"],
    ['src/manager/x.ts', "import { a } from '../db/y.ts';\nexport const b = a;\n"],
    ['src/manager/billing/x.ts', "import { a } from '../../domain/billing/y.ts';\nexport const b = a;\n"],
    ['src/manager/billing/x.ts', "import { a } from '../access/policy.ts';\nexport const b = a;\n"],
    ['src/schemas/x.ts', "import { a } from '../domain/billing/y.ts';\nexport const b = a;\n"],
    [
      'src/main/x.ts',
      "import { a } from '../manager/y.ts';\nimport { b } from '../operator/z.ts';\nexport const c = [a, b];\n",
    ],
  ])('%s may import what it imports here (%#)', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});
