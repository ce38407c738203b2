// ESLint (run by `npm test`): typescript-eslint's type-checked recommended rules over the TypeScript
// (src, scripts, bench, tests) — no-floating-promises and no-misused-promises among them, for a
// promise-heavy worker — React's hook rules, and the boundaries the architecture relies on.
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist', 'dist-test', 'node_modules', '.gpu', 'test-artifacts', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // shapes read well in messages ("got 1,28,28,1"); numbers and booleans too
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowArray: true }],
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // the UI runs on the main thread: tensors, the model and training live in the worker; the page
    // and the worker speak through src/protocol only
    files: ['src/ui/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tensorflow/*'], message: 'the UI never imports tfjs: send the worker a message (src/protocol)' },
            { group: ['**/worker/*', '!**/worker/engine.worker'], message: 'the page speaks to the worker through src/protocol only' },
            {
              group: ['**/training/*', '!**/training/recipe'],
              allowTypeImports: true,
              message: 'training runs in the worker; the UI may import its types (and the tfjs-free recipe.ts)',
            },
            {
              group: ['**/model/*', '!**/model/config'],
              allowTypeImports: true,
              message: 'the model runs in the worker; the UI may import its types (and the tfjs-free config.ts)',
            },
            {
              group: [
                '**/diffusion/*',
                '!**/diffusion/schedule',
                '!**/diffusion/timestep',
                '!**/diffusion/forward-values',
                '!**/diffusion/seeded-normal',
                '!**/diffusion/defaults',
              ],
              allowTypeImports: true,
              message:
                'these diffusion files work on tensors; the UI may use the tfjs-free schedule.ts, timestep.ts, forward-values.ts, seeded-normal.ts and defaults.ts',
            },
          ],
        },
      ],
    },
  },
);
