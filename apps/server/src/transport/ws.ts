import type { IncomingMessage, Server } from 'node:http';
import { specifiedRules, validate, type GraphQLSchema, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ApiContext } from '@strata/schema';
import type { ErrorLogger } from '../graphql/errors.js';
import { formatError } from '../graphql/errors.js';

export interface WsDeps {
  server: Server;
  schema: GraphQLSchema;
  rules: ValidationRule[];
  /** Authenticate a connection; false refuses it (graphql-ws closes with 4403). */
  onConnect: (connectionParams: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage) => Promise<boolean> | boolean;
  /** The context of one operation; credentials are checked again for each. */
  context: (connectionParams: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage) => Promise<ApiContext> | ApiContext;
  log: ErrorLogger;
  path?: string;
}

/**
 * The WebSocket transport (graphql-ws) on the HTTP server's port. graphql-ws executes
 * operations itself, so the limits and the error masking are applied here again.
 */
export function createWsServer(deps: WsDeps): { close: () => Promise<void> } {
  const wss = new WebSocketServer({ server: deps.server, path: deps.path ?? '/graphql', maxPayload: 1024 * 1024 });
  const format = (errors: readonly unknown[]) =>
    errors.map((e) =>
      formatError(
        typeof (e as { toJSON?: unknown }).toJSON === 'function' ? (e as { toJSON: () => never }).toJSON() : (e as never),
        e,
        deps.log,
      ),
    );
  const cleanup = useServer(
    {
      schema: deps.schema,
      validate: (schema, document) => validate(schema, document, [...specifiedRules, ...deps.rules]),
      onConnect: (ctx) => deps.onConnect(ctx.connectionParams, ctx.extra.request),
      context: (ctx) => deps.context(ctx.connectionParams, ctx.extra.request),
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
    },
    wss,
  );
  return {
    close: async () => {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
