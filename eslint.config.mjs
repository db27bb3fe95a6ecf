import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Import restrictions shared by the blocks below (ARCHITECTURE.md, "Packages and their boundaries"). */
const noTfjs = { group: ['@tensorflow/*'], message: 'This package must not depend on TensorFlow.js.' };
const noPrisma = { name: '@prisma/client', message: 'Only libs/db talks to Prisma.' };
const dbMessage =
  'The dashboard reads the database only through @chorus/db/client (no PGlite, no migrations, nothing Next cannot bundle).';
/** `@chorus/db` itself and its entries other than `allowed` (gitignore patterns: `!` re-includes). */
const dbOnlyThrough = (allowed) => ({
  group: ['@chorus/db/*', ...allowed.map((entry) => `!@chorus/db/${entry}`), '**/libs/db/**'],
  message: dbMessage,
});
const dbRoot = { name: '@chorus/db', message: dbMessage };

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next/**',
      '**/.next-*/**',
      '**/dist/**',
      '.nx/**',
      '.chorus/**',
      'test-artifacts/**',
      '.gpu-kit/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The dependency rules of ARCHITECTURE.md, enforced from the Nx project tags in each package.json.
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
            { sourceTag: 'scope:terminal', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:models', onlyDependOnLibsWithTags: ['scope:data', 'scope:protocol', 'scope:ensemble'] },
            { sourceTag: 'scope:db', onlyDependOnLibsWithTags: ['scope:protocol'] },
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
    // libs/ensemble and libs/data import no tfjs, the dashboard imports no tfjs, and only libs/db
    // imports the Prisma client (ARCHITECTURE.md).
    files: ['libs/ensemble/**', 'libs/data/**', 'libs/protocol/**', 'libs/terminal/**', 'apps/dashboard/**'],
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
    ignores: ['libs/db/**', 'libs/ensemble/**', 'libs/data/**', 'libs/protocol/**', 'libs/terminal/**', 'apps/dashboard/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@prisma/client', message: 'Only libs/db talks to Prisma.' }] },
      ],
    },
  },
  {
    // The plain TF.js loader of the export tests stands for a user without Chorus.
    files: ['test/support/plain-tfjs.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@chorus/*'], message: 'An exported ensemble must load without Chorus code.' }] },
      ],
    },
  },
  {
    // Environment variables are read in each app's env.ts only (parseEnv, tested there).
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/env.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment in env.ts (parseEnv).' },
      ],
    },
  },
  {
    // libs/db is storage only: the coordinator and the dashboard load it without TensorFlow.js.
    files: ['libs/db/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noTfjs] }] },
  },
  {
    // The dashboard reaches libs/db only through its `@chorus/db/client` entry. This block restates
    // the dashboard's other restrictions: a later block's options replace an earlier one's.
    files: ['apps/dashboard/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noTfjs, dbOnlyThrough(['client'])], paths: [noPrisma, dbRoot] },
      ],
    },
  },
  {
    // Its tests may also set up throwaway databases (`@chorus/db/testing`); they are never bundled.
    files: ['apps/dashboard/**/*.test.ts', 'apps/dashboard/**/*.test.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [noTfjs, dbOnlyThrough(['client', 'testing'])], paths: [noPrisma, dbRoot] },
      ],
    },
  },
);
