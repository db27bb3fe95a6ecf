import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.next/**', '**/.next-*/**', '**/dist/**', '.nx/**', '.chorus/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // DESIGN.md's dependency rules, enforced from the Nx project tags in each package.json.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
            { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:ensemble', onlyDependOnLibsWithTags: ['scope:protocol'] },
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:protocol'] },
            { sourceTag: 'scope:models', onlyDependOnLibsWithTags: ['scope:data', 'scope:protocol'] },
            { sourceTag: 'scope:db', onlyDependOnLibsWithTags: ['scope:protocol', 'scope:ensemble'] },
            {
              sourceTag: 'scope:dashboard',
              onlyDependOnLibsWithTags: ['scope:protocol', 'scope:ensemble', 'scope:db'],
            },
          ],
        },
      ],
    },
  },
  {
    // DESIGN.md: libs/ensemble and libs/data import no tfjs, the dashboard imports no tfjs,
    // and only libs/db imports the Prisma client.
    files: ['libs/ensemble/**', 'libs/data/**', 'libs/protocol/**', 'apps/dashboard/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['@tensorflow/*'], message: 'This package must not depend on TensorFlow.js.' }],
          paths: [{ name: '@prisma/client', message: 'Only libs/db talks to Prisma.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['libs/db/**', 'libs/ensemble/**', 'libs/data/**', 'libs/protocol/**', 'apps/dashboard/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@prisma/client', message: 'Only libs/db talks to Prisma.' }] },
      ],
    },
  },
  {
    // CONVENTIONS.md: environment variables are read in each app's env.ts only.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/env.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment in env.ts (parseEnv).' },
      ],
    },
  },
);
