import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders outside the core that no Lambda code may import. */
const OUTSIDE_CORE = '(cli|local|modules|bench|tooling|scripts|tests)';

/** An import pattern for `no-restricted-imports`, with the message lint prints. */
const forbid = (regex, message) => ({ regex, message });

/**
 * One config block per file group: flat config replaces (does not merge) a rule's options
 * between blocks, so each group lists all of its patterns at once.
 */
function layerRules() {
  const upToFunctions = (depth) => '\\.\\./'.repeat(depth);
  const core = (depth) => [
    forbid(
      `^(\\.\\./)+${OUTSIDE_CORE}(/|$)`,
      'functions/ is the core: it imports no CLI, local simulator, module, tooling or benchmark code (docs/architecture.md).',
    ),
    forbid(
      `^${upToFunctions(depth)}(?!commons(/|$))[^./][^/]*(/|$)`,
      'A handler folder imports functions/commons only, never another handler folder: move what they share into functions/commons (docs/architecture.md).',
    ),
  ];
  const noTopLayers = (what) =>
    forbid(
      '^(\\.\\./)+(cli|local|bench)(/|$)',
      `${what} does not import cli/, local/ or bench/: put what both need in tooling/ (docs/architecture.md).`,
    );
  const block = (files, patterns, ignores = []) => ({
    files,
    ignores,
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  });
  return [
    // functions/<handler>/x.ts and functions/commons/x.ts: `../` is functions/.
    block(['functions/*/*.ts'], core(1)),
    // functions/commons/<part>/x.ts: `../../` is functions/.
    block(['functions/*/*/*.ts'], core(2)),
    block(['modules/**/*.ts'], [noTopLayers('modules/')]),
    block(
      ['tooling/**/*.ts'],
      [
        forbid(
          '^(\\.\\./)+(cli|local|bench|modules)(/|$)',
          'tooling/ sits under modules/ and cli/: it imports neither, nor local/ or bench/ (docs/architecture.md).',
        ),
      ],
    ),
  ];
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'build/',
      'coverage/',
      'cdktf.out/',
      '.tools/',
      '.venv/',
      '.venv-checkov/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // The layers of docs/architecture.md, kept by lint. `no-restricted-imports` sees the import
  // string only, so each rule matches the relative path as written from the folder depth the
  // files sit at; a new folder depth needs a line here (the test in tests/unit/layers.test.ts
  // fails when a file escapes these globs).
  ...layerRules(),
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
