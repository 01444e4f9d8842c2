/**
 * A TCP proxy between the browser and the stack, so a test can cut the WebSocket like a real network
 * would: `dropWebSockets()` destroys every open WebSocket connection, and while `blockWebSockets(true)`
 * new WebSocket handshakes are refused. `slowWebSockets(ms)` holds each frame the server sends over a
 * WebSocket for `ms`, so a render that takes milliseconds can be watched (and photographed) step by step.
 * Plain HTTP (queries, mutations, frames) passes untouched.
 */
import net from 'node:net';

const HEADERS_END = '\r\n\r\n';
const isWebSocketHandshake = (head) => /^upgrade:\s*websocket\s*$/im.test(head);

/**
 * Cut what a server sends on an upgraded connection into its pieces: the handshake response, then one
 * WebSocket frame at a time (RFC 6455 framing; server frames are unmasked but masks are skipped anyway).
 */
function splitFrames(onPiece) {
  let buffer = Buffer.alloc(0);
  let handshakeDone = false;
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!handshakeDone) {
      const end = buffer.indexOf(HEADERS_END);
      if (end < 0) return;
      onPiece(buffer.subarray(0, end + HEADERS_END.length));
      buffer = buffer.subarray(end + HEADERS_END.length);
      handshakeDone = true;
    }
    while (buffer.length >= 2) {
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer[1] & 0x80) offset += 4;
      if (buffer.length < offset + length) return;
      onPiece(buffer.subarray(0, offset + length));
      buffer = buffer.subarray(offset + length);
    }
  };
}

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
      // Delay per WebSocket frame, not per TCP chunk: one chunk may carry several events.
      let last = Promise.resolve();
      upstream.on(
        'data',
        splitFrames((piece) => {
          const wait = delayMs;
          last = last
            .then(() => (wait ? new Promise((resolve) => setTimeout(resolve, wait)) : null))
            .then(() => client.writable && client.write(piece));
        }),
      );
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
    /** Hold every frame the server sends over a WebSocket for `ms` (0: pass at once). */
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
