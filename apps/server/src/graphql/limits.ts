import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createRequire } from 'node:module';
import { ErrorCode } from '@strata/schema';

/**
 * graphql-query-complexity's ESM build imports `graphql/index.mjs`, a second copy of graphql next
 * to the CommonJS one type-graphql builds the schema with; its CommonJS build shares ours.
 */
const { getComplexity, simpleEstimator } = createRequire(import.meta.url)(
  'graphql-query-complexity',
) as typeof import('graphql-query-complexity');

/** Query size limits, applied on HTTP and WebSocket. */
export interface QueryLimits {
  /** Deepest selection. @default 12 */
  maxDepth: number;
  /** Highest cost (one point per field, lists counted once). @default 1500 */
  maxCost: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 12, maxCost: 1500 };

function tooComplex(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX } });
}

function depth(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let deepest = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD)
      deepest = Math.max(deepest, selection.selectionSet ? 1 + depth(selection.selectionSet, fragments, seen) : 1);
    else if (selection.kind === Kind.INLINE_FRAGMENT) deepest = Math.max(deepest, depth(selection.selectionSet, fragments, seen));
    else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment || seen.has(name)) continue;
      deepest = Math.max(deepest, depth(fragment.selectionSet, fragments, new Set([...seen, name])));
    }
  }
  return deepest;
}

/** Refuses operations nested deeper than `maxDepth`. */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
    return {
      OperationDefinition(node) {
        const d = depth(node.selectionSet, fragments, new Set());
        if (d > maxDepth) context.reportError(tooComplex(`operation is ${d} levels deep; the limit is ${maxDepth}`));
      },
    };
  };
}

/** Refuses operations whose estimated cost is above `maxCost`. */
export function costLimitRule(schema: GraphQLSchema, maxCost: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    Document: {
      leave(document) {
        try {
          const cost = getComplexity({ schema, query: document, variables: {}, estimators: [simpleEstimator({ defaultComplexity: 1 })] });
          if (cost > maxCost) context.reportError(tooComplex(`operation costs ${cost}; the limit is ${maxCost}`));
        } catch {
          // Invalid documents are reported by the standard rules.
        }
      },
    },
  });
}

export function limitRules(schema: GraphQLSchema, limits: QueryLimits): ValidationRule[] {
  return [depthLimitRule(limits.maxDepth), costLimitRule(schema, limits.maxCost)];
}
