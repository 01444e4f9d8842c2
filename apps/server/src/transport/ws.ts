import type { IncomingMessage, Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ApiContext } from '@strata/schema';
import type { ErrorLogger } from '../graphql/errors.js';
import { formatError } from '../graphql/errors.js';
import type { OperationGuard } from '../graphql/guard.js';

export interface WsDeps {
  server: Server;
  schema: GraphQLSchema;
  /** The query limits and the introspection setting, the same as over HTTP. */
  guard: OperationGuard;
  /** Authenticate a connection; false refuses it (graphql-ws closes with 4403). */
  onConnect: (connectionParams: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage) => Promise<boolean> | boolean;
  /** The context of one operation; credentials are checked again for each. */
  context: (connectionParams: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage) => Promise<ApiContext> | ApiContext;
  log: ErrorLogger;
  path?: string;
}

/**
 * The WebSocket transport (graphql-ws) on the HTTP server's port. graphql-ws executes
 * operations itself, so the limits and the error masking are applied here again: `onSubscribe`
 * checks the text, parses, validates and costs the operation with its variables before it runs.
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
      onSubscribe: (_ctx, _id, payload) => {
        const prepared = deps.guard.prepare(payload.query, payload.operationName, payload.variables);
        if (prepared.errors) return prepared.errors;
        return {
          schema: deps.schema,
          document: prepared.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
        };
      },
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
