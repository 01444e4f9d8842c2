/**
 * A TCP proxy between the browser and the stack, so a test can cut the WebSocket like a real network
 * would: `dropWebSockets()` destroys every open WebSocket connection, and while `blockWebSockets(true)`
 * new WebSocket handshakes are refused. `slowWebSockets(ms)` holds each chunk the server sends over a
 * WebSocket for `ms`, so a render that takes milliseconds can be watched (and photographed) step by step.
 * Plain HTTP (queries, mutations, frames) passes untouched.
 */
import net from 'node:net';

const HEADERS_END = '\r\n\r\n';
const isWebSocketHandshake = (head) => /^upgrade:\s*websocket\s*$/im.test(head);

export async function startProxy(targetPort) {
  const connections = new Set();
  let blocked = false;
  let delayMs = 0;

  const server = net.createServer((client) => {
    let head = Buffer.alloc(0);
    client.on('error', () => client.destroy());
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      if (!text.includes(HEADERS_END) && head.length < 16_384) return;
      client.off('data', onData);
      const webSocket = isWebSocketHandshake(text);
      if (webSocket && blocked) return client.destroy();
      const upstream = net.connect(targetPort, '127.0.0.1');
      const connection = { client, upstream, webSocket };
      connections.add(connection);
      const close = () => {
        connections.delete(connection);
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', close).on('close', close);
      client.on('close', close);
      upstream.write(head);
      client.pipe(upstream);
      if (!webSocket) return upstream.pipe(client);
      let last = Promise.resolve();
      upstream.on('data', (chunk) => {
        const wait = delayMs;
        last = last.then(() => new Promise((resolve) => setTimeout(resolve, wait))).then(() => client.writable && client.write(chunk));
      });
    };
    client.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  return {
    url: `http://127.0.0.1:${port}`,
    /** Cut every open WebSocket connection (the browser sees an abnormal closure, code 1006). */
    dropWebSockets() {
      let dropped = 0;
      for (const connection of connections) {
        if (!connection.webSocket) continue;
        connection.client.destroy();
        connection.upstream.destroy();
        dropped++;
      }
      return dropped;
    },
    /** Hold every chunk the server sends over a WebSocket for `ms` (0: pass at once). */
    slowWebSockets(ms) {
      delayMs = ms;
    },
    /** Refuse (true) or allow (false) new WebSocket handshakes. */
    blockWebSockets(value) {
      blocked = value;
    },
    async stop() {
      for (const { client, upstream } of connections) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
