// @ts-check
import tseslint from 'typescript-eslint';

// Layers from DESIGN.md, enforced on import paths (test/integration/repo/layer-boundaries.test.ts
// holds each rule to a breaking import). Pure layers (domain, schemas) import no I/O; the components
// (manager, operator, admission) never import each other; only the composition roots in src/main
// (the CLI included) wire adapters together, and nothing imports src/main.
const io = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:child_process',
  'pg',
  '@electric-sql/pglite',
  'fastify',
  '@kubernetes/client-node',
];
const components = ['manager', 'operator', 'admission'];
const component = (name) => ({
  files: [`src/${name}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `(^|/)(${[...components, 'main'].filter((c) => c !== name).join('|')})/`,
            message: `src/${name} must not import another component or a composition root; move shared code to domain, platform, kube or db.`,
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  // dist/ is what `npm run build` writes (tsconfig.build.json); reports/ what the test run writes.
  {
    ignores: [
      'node_modules/',
      'dist/',
      'reports/',
      'deploy/',
      'hack/controlplane/**/*.go',
      'docs/.vitepress/dist/',
      'docs/.vitepress/cache/',
      'docs/.vitepress/.temp/',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/domain/**/*.ts', 'src/schemas/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: io.map((name) => ({ name, message: 'domain and schemas are pure: no I/O imports.' })),
          patterns: [
            {
              regex: '(^|/)(db|kube|platform|manager|operator|admission|main|delivery|kms)/',
              message: 'domain and schemas are pure: they import only each other.',
            },
          ],
        },
      ],
    },
  },
  ...components.map(component),
  {
    files: ['src/**/*.ts'],
    ignores: [
      'src/main/**',
      'src/manager/**',
      'src/operator/**',
      'src/admission/**',
      'src/domain/**',
      'src/schemas/**',
      '**/*.test.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `(^|/)(main|${components.join('|')})/`,
              message: 'shared layers must not import components or composition roots.',
            },
          ],
        },
      ],
    },
  },
);
