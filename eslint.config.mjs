// ESLint (run by `npm test` before the tests): neostandard's rules for
// TypeScript, and a bound on line length.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['**/dist/**', '**/node_modules/**', 'results/**', 'packages/ui/static/**'] }),
  {
    rules: {
      // `void promise` marks a promise deliberately not awaited (its errors are handled inside)
      'no-void': ['error', { allowAsStatement: true }],
      // a multi-property object on one line reads as one value; neostandard's one-per-line rule splits short literals
      '@stylistic/object-property-newline': 'off',
      // terminal and path checks match control characters on purpose
      'no-control-regex': 'off',
      // loops that wait on a flag set by a callback or a stream's events: the rule cannot see those writes
      'no-unmodified-loop-condition': 'off',
      // code lines; a message, a comment or a pattern may run longer than a line of code
      'max-len': ['error', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true }]
    }
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      // `_` names what is deliberately unused (a destructured field left out, a chunk only counted)
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // a class used inside a function body declared above it is defined by the time the function runs
      '@typescript-eslint/no-use-before-define': ['error', { functions: false, classes: false, variables: false }]
    }
  }
]
