// @ts-check
import tseslint from 'typescript-eslint';

// Layers from DESIGN.md, enforced on import paths. Pure layers (domain, schemas) import no I/O;
// the components (manager, operator, admission, cli) never import each other; only the composition
// roots in src/main wire adapters together, and nothing imports src/main.
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
const component = (name) => ({
  files: [`src/${name}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `(^|/)(${['manager', 'operator', 'admission', 'cli', 'main'].filter((c) => c !== name).join('|')})/`,
            message: `src/${name} must not import another component or a composition root; move shared code to domain, platform, kube or db.`,
          },
        ],
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'reports/',
      'coverage/',
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
              regex: '(^|/)(db|kube|platform|manager|operator|admission|cli|main|delivery|billing|kms)/',
              message: 'domain and schemas are pure: they import only each other.',
            },
          ],
        },
      ],
    },
  },
  component('manager'),
  component('operator'),
  component('admission'),
  component('cli'),
  {
    files: ['src/**/*.ts'],
    ignores: [
      'src/main/**',
      'src/manager/**',
      'src/operator/**',
      'src/admission/**',
      'src/cli/**',
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
              regex: '(^|/)(main|manager|operator|admission|cli)/',
              message: 'shared layers must not import components or composition roots.',
            },
          ],
        },
      ],
    },
  },
);
