import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildContractSchema } from './build.js';

const HEADER = '# The GraphQL contract of the layered scene platform.\n# Generated from packages/schema/src by `npm run emit -w @strata/schema`; do not edit.\n\n';

/** The SDL of the contract, sorted, with a header: exactly what `schema.graphql` holds. */
export function printContractSchema(): string {
  return HEADER + printSchema(lexicographicSortSchema(buildContractSchema())) + '\n';
}
