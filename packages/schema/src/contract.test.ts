import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate } from '@graphql-codegen/cli';
import { buildSchema, isObjectType, isInputObjectType, isInterfaceType, isEnumType } from 'graphql';
import { printContractSchema } from './print.js';

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

describe('the committed contract', () => {
  it('schema.graphql is what the classes print (run `npm run emit -w @strata/schema` when this fails)', () => {
    expect(readFileSync(root('schema.graphql'), 'utf8')).toBe(printContractSchema());
  });

  it('src/client/generated.ts is what codegen makes of schema.graphql and operations.graphql', async () => {
    const [output] = await generate({ cwd: root(''), ...(await import('../codegen.js')).default, silent: true } as never, false);
    expect(readFileSync(root('src/client/generated.ts'), 'utf8')).toBe((output as { content: string }).content);
  }, 60_000);

  it('describes every type, field, argument and enum value', () => {
    const schema = buildSchema(readFileSync(root('schema.graphql'), 'utf8'));
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description && !['sceneId', 'layerId', 'id', 'input', 'title', 'visible', 'visibility', 'document'].includes(arg.name)) {
              missing.push(`${type.name}.${field.name}(${arg.name})`);
            }
          }
        }
      }
      if (isEnumType(type)) for (const v of type.getValues()) if (!v.description) missing.push(`${type.name}.${v.name}`);
    }
    expect(missing).toEqual([]);
  });
});
