import type { IncomingMessage, Server } from 'node:http';
import { getOperationAST, GraphQLError, subscribe, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
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
  /** Masked errors. */
  log: ErrorLogger;
  /** Transport events (a socket error, an oversized message): one line each. */
  info?: ErrorLogger;
  path?: string;
  /** Largest message a client may send, bytes. @default 1 MiB */
  maxPayload?: number;
  /** Ping every this many ms; a client that does not answer within the next interval is dropped. @default 12000 */
  keepAliveMs?: number;
}

/** Extra of each graphql-ws context: the socket and its upgrade request. */
interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';

/** A WebSocket close code for a message that is too big (RFC 6455). */
const MESSAGE_TOO_BIG = 1009;

/**
 * The WebSocket transport (graphql-ws) on the HTTP server's port. graphql-ws executes
 * operations itself, so the limits and the error masking are applied here again: `onSubscribe`
 * checks the text, parses, validates and costs the operation with its variables before it runs.
 *
 * The socket adapter is ours rather than `graphql-ws/use/ws` so that transport trouble is one log
 * line, not a console dump: a socket error (an oversized message closes with 1009) is logged once
 * through the server logger, and a write to a socket the client already closed is dropped silently.
 */
export function createWsServer(deps: WsDeps): { close: () => Promise<void> } {
  const maxPayload = deps.maxPayload ?? 1024 * 1024;
  const wss = new WebSocketServer({ server: deps.server, path: deps.path ?? '/graphql', maxPayload, handleProtocols });
  const info = deps.info ?? (() => {});
  const format = (errors: readonly unknown[]) =>
    errors.map((e) =>
      formatError(
        typeof (e as { toJSON?: unknown }).toJSON === 'function' ? (e as { toJSON: () => never }).toJSON() : (e as never),
        e,
        deps.log,
      ),
    );
  /** Subscriptions started by onSubscribe, handed to graphql-ws by `subscribe` below. */
  const started = new WeakMap<ExecutionArgs, unknown>();
  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    schema: deps.schema,
    onSubscribe: async (ctx, _id, payload) => {
      const prepared = deps.guard.prepare(payload.query, payload.operationName, payload.variables);
      if (prepared.errors) return prepared.errors;
      const args: ExecutionArgs = {
        schema: deps.schema,
        document: prepared.document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue: await deps.context(ctx.connectionParams, ctx.extra.request),
      };
      // A subscription refused when it starts (access, a limit, a bad cursor) must reach the client as
      // an `error` message, which only errors from this hook become; graphql-ws would otherwise send
      // the failed result as `next` followed by `complete`. So subscriptions start here.
      if (getOperationAST(prepared.document, payload.operationName)?.operation === 'subscription') {
        const result = await subscribe(args);
        if (!isAsyncIterable(result)) {
          const errors = result.errors?.length ? result.errors : [new GraphQLError('the subscription did not start')];
          return errors.map((e) => (e instanceof GraphQLError ? e : new GraphQLError(String(e))));
        }
        started.set(args, result);
      }
      return args;
    },
    subscribe: (args) => (started.get(args) as ReturnType<typeof subscribe> | undefined) ?? subscribe(args),
    onConnect: (ctx) => deps.onConnect(ctx.connectionParams, ctx.extra.request),
    onError: (_ctx, _id, _payload, errors) => format(errors),
    onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
  });

  const keepAlive = deps.keepAliveMs ?? 12_000;
  wss.on('error', (error) => info('websocket server error', { error: error.message }));
  wss.on('connection', (socket, request) => {
    const address = request.socket.remoteAddress ?? 'unknown';
    socket.once('error', (error: Error & { code?: string }) => {
      // ws has already failed the connection (an oversized or malformed frame); say why, once, and close.
      const tooBig = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || /max payload/i.test(error.message);
      info('websocket closed on a client error', {
        address,
        code: error.code ?? null,
        reason: error.message,
        limit: tooBig ? maxPayload : undefined,
      });
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
        socket.close(tooBig ? MESSAGE_TOO_BIG : CloseCode.BadRequest, tooBig ? 'Message too big' : 'Bad request');
    });
    let pongWait: NodeJS.Timeout | null = null;
    const ping =
      keepAlive > 0 && Number.isFinite(keepAlive)
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAlive);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAlive)
        : null;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        // A client that left mid-stream: the message has nowhere to go, which is not an error.
        send: (data) =>
          new Promise<void>((resolve) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, () => resolve());
          }),
        close: (code, reason) => {
          if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason);
        },
        onMessage: (cb) =>
          socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
            const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as ArrayBuffer).toString();
            cb(text).catch((error: unknown) => {
              if (socket.readyState !== socket.OPEN) return;
              deps.log('websocket message failed', {
                address,
                error: error instanceof Error ? (error.stack ?? error.message) : String(error),
              });
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      if (ping) clearInterval(ping);
      void closed(code, String(reason));
    });
  });
  return {
    close: async () => {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
