// ESLint (run by `npm test`): the boundaries the architecture relies on, and React's hook rules.
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist', 'dist-test', 'node_modules', '.gpu', 'test-artifacts'] },
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: { parser: tseslint.parser },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // the UI runs on the main thread: tensors, the model and training live in the worker
    files: ['src/ui/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tensorflow/*'], message: 'the UI never imports tfjs: send the worker a message (src/worker/protocol.ts)' },
            { group: ['**/training/*', '!**/training/recipe'], allowTypeImports: true, message: 'training runs in the worker; the UI may import its types (and the tfjs-free recipe.ts)' },
            { group: ['**/model/*', '!**/model/config'], allowTypeImports: true, message: 'the model runs in the worker; the UI may import its types (and the tfjs-free config.ts)' },
            {
              group: ['**/diffusion/*', '!**/diffusion/schedule', '!**/diffusion/timestep', '!**/diffusion/forward-values', '!**/diffusion/seeded-normal'],
              allowTypeImports: true,
              message: 'these diffusion files work on tensors; the UI may use the tfjs-free schedule.ts, timestep.ts, forward-values.ts and seeded-normal.ts',
            },
          ],
        },
      ],
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
  },
);
