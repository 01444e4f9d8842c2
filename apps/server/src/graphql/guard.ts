import {
  GraphQLError,
  getOperationAST,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloServerValidationErrorCode } from '@apollo/server/errors';
import { ErrorCode } from '@strata/schema';
import { formatError } from './errors.js';
import { PRESET_IDS } from '../domain/rendering/mask.js';
import type { ModelSpec } from '../domain/rendering/model.js';
import type { Limits } from '../domain/scenes/limits.js';
import { INTROSPECTION_BUDGET_FACTOR, operationCost, standardIntrospectionCost, strataCostModel, type CostModel } from './cost.js';
import {
  LimitReason,
  checkDocument,
  checkSource,
  depthLimitRule,
  introspectionDisabled,
  limitError,
  noIntrospectionRule,
  type QueryLimits,
} from './limits.js';

export interface GuardOptions {
  schema: GraphQLSchema;
  limits: QueryLimits;
  /** `STRATA_INTROSPECTION`: whether `__schema`/`__type` are answered, on both transports. */
  introspection: boolean;
  /** The scene limits (layers per scene, page size) and the model (its lists), for list sizes. */
  sceneLimits: Pick<Limits, 'maxLayers' | 'maxPageSize'>;
  model: Pick<ModelSpec, 'categories' | 'styles'>;
  /** Where refusals an operator should know about go (answers over the size ceiling). */
  log?: (message: string, data: Record<string, unknown>) => void;
}

/** A document ready to execute, or the errors that refuse it. */
export type Prepared = { document: DocumentNode; errors?: undefined } | { errors: readonly GraphQLError[]; document?: undefined };

/** The same refusal with an HTTP status for Apollo (graphql-ws never sees it). */
function withStatus(error: GraphQLError, status: number): GraphQLError {
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.originalError ? { originalError: error.originalError } : {}),
    extensions: { ...error.extensions, http: { status } },
  });
}

/**
 * Every query limit in one place, for both transports: the ceilings on the text (bytes, tokens) and
 * on the parsed document (aliases) before validation; depth and introspection as validation rules;
 * the cost with the operation's real variables after validation; the answer size on HTTP.
 * Apollo uses it through {@link OperationGuard.apolloPlugin}; graphql-ws, which parses and executes
 * operations itself, through {@link OperationGuard.prepare} in `onSubscribe`.
 */
export class OperationGuard {
  readonly limits: QueryLimits;
  readonly introspection: boolean;
  readonly costModel: CostModel;
  /** The most introspection may cost: a few times the full standard introspection query on this schema. */
  readonly maxIntrospectionCost: number;
  /**
   * The validation rules beyond graphql-js's own: depth. Introspection is refused by Apollo's own rule
   * (its `introspection` option, set from the same setting; see `apolloError`) and by `prepare`.
   */
  readonly rules: ValidationRule[];
  private readonly ownRules: ValidationRule[];
  private readonly schema: GraphQLSchema;
  private readonly log: GuardOptions['log'];

  constructor(options: GuardOptions) {
    this.schema = options.schema;
    this.limits = options.limits;
    this.introspection = options.introspection;
    this.log = options.log;
    this.costModel = strataCostModel(options.schema, {
      maxLayers: options.sceneLimits.maxLayers,
      maxPageSize: options.sceneLimits.maxPageSize,
      categories: options.model.categories.length,
      styles: options.model.styles.length,
      presets: PRESET_IDS.length,
    });
    this.maxIntrospectionCost = INTROSPECTION_BUDGET_FACTOR * standardIntrospectionCost(options.schema, this.costModel);
    this.rules = [depthLimitRule(options.limits.maxDepth)];
    this.ownRules = [...specifiedRules, ...this.rules, ...(options.introspection ? [] : [noIntrospectionRule])];
  }

  /** Document bytes and tokens, on the text. */
  checkSource(source: string): GraphQLError | undefined {
    return checkSource(source, this.limits);
  }

  /** Aliases, on the parsed document, before validation. */
  checkDocument(document: DocumentNode): GraphQLError | undefined {
    return checkDocument(document, this.limits);
  }

  /**
   * The cost of the operation to run, with the request's variables. Anything that keeps the cost from
   * being computed refuses the operation. Variables that do not coerce are left to execution, which
   * refuses the operation with the coercion errors before any resolver runs.
   */
  checkOperation(document: DocumentNode, operation: OperationDefinitionNode, rawVariables: unknown): GraphQLError | undefined {
    const inputs = rawVariables && typeof rawVariables === 'object' ? (rawVariables as Record<string, unknown>) : {};
    const coerced = getVariableValues(this.schema, operation.variableDefinitions ?? [], inputs, { maxErrors: 1 });
    if (coerced.errors) return undefined;
    let cost;
    try {
      cost = operationCost(this.schema, document, operation, coerced.coerced, this.costModel);
    } catch (error) {
      return limitError(
        ErrorCode.QUERY_TOO_COMPLEX,
        LimitReason.COST_UNKNOWN,
        `the cost of the operation could not be computed (${error instanceof Error ? error.message : String(error)}); it was not run`,
      );
    }
    if (cost.data > this.limits.maxCost)
      return limitError(
        ErrorCode.QUERY_TOO_COMPLEX,
        LimitReason.TOO_COSTLY,
        `operation costs ${cost.data}; the limit is ${this.limits.maxCost}`,
        {
          limit: this.limits.maxCost,
        },
      );
    if (cost.introspection > this.maxIntrospectionCost)
      return limitError(
        ErrorCode.QUERY_TOO_COMPLEX,
        LimitReason.INTROSPECTION_TOO_COSTLY,
        `introspection costs ${cost.introspection}; the limit is ${this.maxIntrospectionCost}`,
        { limit: this.maxIntrospectionCost },
      );
    return undefined;
  }

  /** The whole check for a transport that executes operations itself (graphql-ws): text, parse, aliases, validation, cost. */
  prepare(source: string, operationName: string | null | undefined, variables: unknown): Prepared {
    const early = this.checkSource(source);
    if (early) return { errors: [early] };
    let document: DocumentNode;
    try {
      document = parse(source, { maxTokens: this.limits.maxTokens });
    } catch (error) {
      const syntax = error instanceof GraphQLError ? error : new GraphQLError(String(error));
      return {
        errors: [
          new GraphQLError(syntax.message, {
            ...(syntax.source ? { source: syntax.source } : {}),
            ...(syntax.positions ? { positions: syntax.positions } : {}),
            extensions: { code: 'GRAPHQL_PARSE_FAILED' },
          }),
        ],
      };
    }
    const aliases = this.checkDocument(document);
    if (aliases) return { errors: [aliases] };
    const invalid = validate(this.schema, document, this.ownRules);
    if (invalid.length) return { errors: invalid };
    const operation = getOperationAST(document, operationName ?? undefined);
    // Without a single operation to run, execution refuses the document (and runs nothing).
    if (!operation) return { document };
    const costly = this.checkOperation(document, operation, variables);
    return costly ? { errors: [costly] } : { document };
  }

  /** The answer's JSON, or a typed error in its place when it is over the ceiling (Apollo's `stringifyResult`). */
  stringifyResult(result: FormattedExecutionResult): string {
    const text = JSON.stringify(result) + '\n';
    const limit = this.limits.maxResponseBytes;
    if (text.length <= limit / 3) return text;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= limit) return text;
    this.log?.('answer over the size ceiling replaced by an error', { bytes, limit });
    const message = `the answer is ${bytes} bytes; the limit is ${limit} (ask for fewer items, smaller pages, or frame URLs instead of pngBase64)`;
    const error: GraphQLFormattedError = {
      message,
      extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, reason: LimitReason.RESPONSE_TOO_LARGE, limit },
    };
    return JSON.stringify({ errors: [error], data: null }) + '\n';
  }

  /**
   * Apollo's own introspection refusal (when `introspection: false`) as the same typed error graphql-ws
   * gives; anything else unchanged. For Apollo's `formatError`, before the shared formatter.
   */
  apolloError(formatted: GraphQLFormattedError, error: unknown): { formatted: GraphQLFormattedError; error: unknown } {
    if (formatted.extensions?.['validationErrorCode'] !== ApolloServerValidationErrorCode.INTROSPECTION_DISABLED)
      return { formatted, error };
    const ours = introspectionDisabled();
    return { formatted: { ...ours.toJSON(), ...(formatted.locations ? { locations: formatted.locations } : {}) }, error: ours };
  }

  /**
   * The checks on Apollo's pipeline. Only `didResolveOperation` may throw a client error (a throw from
   * an earlier hook is a 500), so a refusal found earlier is kept for the request and answered in
   * `willSendResponse`, and the work it would cost is skipped: bytes and tokens are counted when the
   * text arrives (the parser then stops at `maxTokens` by itself); aliases and repeated fields before
   * validation, which then validates a one-field stand-in that fails at once (and is never cached)
   * instead of the refused document. Subscriptions and the cost with the request's variables once the
   * operation is known.
   */
  apolloPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: async () => {
        let refusal: GraphQLError | undefined;
        return {
          didResolveSource: async ({ source }) => {
            refusal = this.checkSource(source);
          },
          validationDidStart: async (requestContext) => {
            refusal ??= this.checkDocument(requestContext.document);
            if (refusal) (requestContext as { document: DocumentNode }).document = REFUSED_STAND_IN;
          },
          didResolveOperation: async ({ document, operation, request }) => {
            if (refusal) throw withStatus(refusal, 400);
            // Without a single operation to run, execution refuses the document (and runs nothing).
            if (!operation) return;
            if (operation.operation === 'subscription') {
              refusal = subscriptionOverHttp();
              throw withStatus(refusal, 400);
            }
            refusal = this.checkOperation(document, operation, request.variables);
            if (refusal) throw withStatus(refusal, 400);
          },
          willSendResponse: async ({ response }) => {
            if (!refusal) return;
            response.body = { kind: 'single', singleResult: { errors: [formatRefusal(refusal)] } };
            response.http.status = 400;
          },
        };
      },
    };
  }
}

/** Validated instead of a document refused before validation: it fails at once, so Apollo never caches it. */
const REFUSED_STAND_IN: DocumentNode = parse('{ __refused_before_validation }');

function subscriptionOverHttp(): GraphQLError {
  return limitError(
    ErrorCode.BAD_USER_INPUT,
    LimitReason.SUBSCRIPTION_OVER_HTTP,
    'subscriptions are served over WebSocket only: connect to ws(s)://<this host>/graphql with the graphql-transport-ws subprotocol (graphql-ws) and subscribe there',
  );
}

/** A refusal as `formatError` shows it (message, code and details; no stack, nothing logged). */
function formatRefusal(error: GraphQLError): GraphQLFormattedError {
  return formatError(error.toJSON(), error, () => {});
}
