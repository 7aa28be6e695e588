/**
 * A TCP echo server as its own process: the far end of `bench/hopFloor.ts`, which
 * answers at once so that only the hops in between are timed.
 *
 *   node --import tsx bench/tools/echoServer.ts      # prints "LISTENING <port>"
 */
import { createServer } from 'node:net';

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('error', () => socket.destroy()); // a client that resets ends its round
});
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as { port: number }).port}`));
