import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: 'src/client/operations.graphql',
  generates: {
    'src/client/generated.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
        scalars: { JSONObject: 'Record<string, unknown>' },
        skipTypename: false,
        nonOptionalTypename: false,
      },
    },
  },
  hooks: {},
};
export default config;
