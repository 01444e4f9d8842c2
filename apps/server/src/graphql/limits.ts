import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  visit,
  type ASTNode,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { ErrorCode } from '@strata/schema';
import { DomainError } from '../domain/errors.js';

/** Query limits, applied alike on HTTP and WebSocket (see PROTOCOL.md, "Limits"). */
export interface QueryLimits {
  /** `STRATA_MAX_DEPTH`: deepest selection (introspection is bounded by its own budget instead). @default 12 */
  maxDepth: number;
  /** `STRATA_MAX_COST`: highest cost, lists multiplied by their size (see cost.ts). @default 10000 */
  maxCost: number;
  /** `STRATA_MAX_DOCUMENT_BYTES`: largest query document, UTF-8 bytes (variables are not counted). @default 65536 */
  maxDocumentBytes: number;
  /** `STRATA_MAX_TOKENS`: most lexical tokens in a document, counted before it is parsed. @default 5000 */
  maxTokens: number;
  /** `STRATA_MAX_ALIASES`: most aliased fields in a document, counted before it is validated. @default 100 */
  maxAliases: number;
  /**
   * `STRATA_MAX_REPEATED_FIELDS`: most times one response name may appear in one selection set (its
   * inline fragments included), counted before validation, which compares every such pair. @default 20
   */
  maxRepeatedFields: number;
  /** `STRATA_MAX_RESPONSE_BYTES`: largest HTTP answer; a larger one is replaced by an error. @default 4194304 */
  maxResponseBytes: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxCost: 10_000,
  maxDocumentBytes: 65_536,
  maxTokens: 5_000,
  maxAliases: 100,
  maxRepeatedFields: 20,
  maxResponseBytes: 4 * 1024 * 1024,
};

/** Stable `extensions.reason` values of the errors below. */
export const LimitReason = {
  DOCUMENT_TOO_LARGE: 'DOCUMENT_TOO_LARGE',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  TOO_NESTED: 'TOO_NESTED',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_REPEATED_FIELDS: 'TOO_MANY_REPEATED_FIELDS',
  TOO_DEEP: 'TOO_DEEP',
  TOO_COSTLY: 'TOO_COSTLY',
  INTROSPECTION_TOO_COSTLY: 'INTROSPECTION_TOO_COSTLY',
  COST_UNKNOWN: 'COST_UNKNOWN',
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  INTROSPECTION_DISABLED: 'INTROSPECTION_DISABLED',
  SUBSCRIPTION_OVER_HTTP: 'SUBSCRIPTION_OVER_HTTP',
} as const;
export type LimitReason = (typeof LimitReason)[keyof typeof LimitReason];

/**
 * A typed refusal. Its original error is a DomainError, so that `formatError` shows its message and
 * details (`reason`, `limit`) as they are, on both transports.
 */
export function limitError(
  code: ErrorCode,
  reason: LimitReason,
  message: string,
  options: { limit?: number; nodes?: readonly ASTNode[] } = {},
): GraphQLError {
  const details = { reason, ...(options.limit !== undefined ? { limit: options.limit } : {}) };
  return new GraphQLError(message, {
    ...(options.nodes ? { nodes: options.nodes } : {}),
    extensions: { code, ...details },
    originalError: new DomainError(code, message, details),
  });
}

const tooComplex = (reason: LimitReason, message: string, limit?: number, nodes?: readonly ASTNode[]) =>
  limitError(ErrorCode.QUERY_TOO_COMPLEX, reason, message, { ...(limit !== undefined ? { limit } : {}), ...(nodes ? { nodes } : {}) });

/**
 * Deepest nesting of `{`, `[` and `(` in a document. Not configurable: graphql-js parses (and
 * validates, and coerces literals) recursively, and a few thousand nested lists or objects, which
 * fit in the token limit, overflow the stack. The deepest selection allowed is 12 fields, an input
 * literal a few levels more.
 */
export const MAX_NESTING = 64;

/** The document-size, token and nesting ceilings, checked on the text before it is parsed. */
export function checkSource(source: string, limits: QueryLimits): GraphQLError | undefined {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long texts need counting.
  const bytes = source.length * 3 <= limits.maxDocumentBytes ? source.length : Buffer.byteLength(source, 'utf8');
  if (bytes > limits.maxDocumentBytes)
    return tooComplex(
      LimitReason.DOCUMENT_TOO_LARGE,
      `the document is ${bytes} bytes; the limit is ${limits.maxDocumentBytes} (send values as variables)`,
      limits.maxDocumentBytes,
    );
  const { tokens, nesting } = countTokens(source, limits.maxTokens + 1);
  if (tokens > limits.maxTokens)
    return tooComplex(LimitReason.TOO_MANY_TOKENS, `the document has more than ${limits.maxTokens} tokens`, limits.maxTokens);
  if (nesting > MAX_NESTING)
    return tooComplex(
      LimitReason.TOO_NESTED,
      `the document nests braces, brackets or parentheses more than ${MAX_NESTING} deep`,
      MAX_NESTING,
    );
  return undefined;
}

const OPENING = new Set<string>([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L]);
const CLOSING = new Set<string>([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R]);

/**
 * Lexical tokens of `source` (as `parse`'s `maxTokens` counts them) and the deepest nesting of
 * brackets among them; counting stops at `stopAt` tokens or at a syntax error.
 */
export function countTokens(source: string, stopAt: number): { tokens: number; nesting: number } {
  const lexer = new Lexer(new Source(source));
  let tokens = 0;
  let depth = 0;
  let nesting = 0;
  try {
    for (let kind = lexer.advance().kind; tokens < stopAt && kind !== TokenKind.EOF; kind = lexer.advance().kind) {
      tokens++;
      if (OPENING.has(kind)) nesting = Math.max(nesting, ++depth);
      else if (CLOSING.has(kind)) depth--;
    }
  } catch {
    // A syntax error: the parser reports it.
  }
  return { tokens, nesting };
}

/** Counts the fields of `set` and of its inline fragments by response name. */
function countResponseNames(set: SelectionSetNode, counts: Map<string, number>): void {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.alias?.value ?? selection.name.value;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) countResponseNames(selection.selectionSet, counts);
  }
}

/**
 * The alias and repeated-field ceilings, checked on the parsed document before validation, whose
 * cost grows with the fields it has to compare (graphql-js compares every pair of fields sharing a
 * response name in a selection set).
 */
export function checkDocument(document: DocumentNode, limits: QueryLimits): GraphQLError | undefined {
  let aliases = 0;
  let repeated: { name: string; count: number; node: ASTNode } | undefined;
  visit(document, {
    Field(node) {
      if (node.alias) aliases++;
    },
    SelectionSet(node) {
      if (repeated) return;
      const counts = new Map<string, number>();
      countResponseNames(node, counts);
      for (const [name, count] of counts) if (count > limits.maxRepeatedFields) repeated = { name, count, node };
    },
  });
  if (aliases > limits.maxAliases)
    return tooComplex(
      LimitReason.TOO_MANY_ALIASES,
      `the document has ${aliases} aliases; the limit is ${limits.maxAliases}`,
      limits.maxAliases,
    );
  if (repeated)
    return tooComplex(
      LimitReason.TOO_MANY_REPEATED_FIELDS,
      `"${repeated.name}" appears ${repeated.count} times in one selection; the limit is ${limits.maxRepeatedFields}`,
      limits.maxRepeatedFields,
    );
  return undefined;
}

const isIntrospectionField = (name: string) => name === '__schema' || name === '__type';

/** Depth of a selection; fragments are measured once each, introspection fields are not counted. */
function selectionDepth(
  set: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  memo: Map<string, number>,
  active: Set<string>,
): number {
  if (!set) return 0;
  let deepest = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (isIntrospectionField(selection.name.value)) continue;
      deepest = Math.max(deepest, selection.selectionSet ? 1 + selectionDepth(selection.selectionSet, fragments, memo, active) : 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, selectionDepth(selection.selectionSet, fragments, memo, active));
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || active.has(name)) continue; // unknown fragments and cycles are refused by the standard rules
      let d = memo.get(name);
      if (d === undefined) {
        active.add(name);
        d = selectionDepth(fragment.selectionSet, fragments, memo, active);
        active.delete(name);
        memo.set(name, d);
      }
      deepest = Math.max(deepest, d);
    }
  }
  return deepest;
}

/** Refuses operations nested deeper than `maxDepth`. */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    const memo = new Map<string, number>();
    return {
      OperationDefinition(node) {
        const d = selectionDepth(node.selectionSet, fragments, memo, new Set());
        if (d > maxDepth)
          context.reportError(
            tooComplex(LimitReason.TOO_DEEP, `operation is ${d} levels deep; the limit is ${maxDepth}`, maxDepth, [node]),
          );
      },
    };
  };
}

/** The error for `__schema`/`__type` while introspection is off (`STRATA_INTROSPECTION=off`), on both transports. */
export function introspectionDisabled(nodes?: readonly ASTNode[]): GraphQLError {
  return limitError(
    ErrorCode.BAD_USER_INPUT,
    LimitReason.INTROSPECTION_DISABLED,
    'introspection is turned off on this server',
    nodes ? { nodes } : {},
  );
}

/** Refuses `__schema` and `__type` (`__typename` stays allowed). */
export const noIntrospectionRule: ValidationRule = (context) => ({
  Field(node) {
    if (isIntrospectionField(node.name.value)) context.reportError(introspectionDisabled([node]));
  },
});
