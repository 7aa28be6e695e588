/**
 * A DAP client as its own process, for tests that kill the client with SIGKILL:
 * `node --import tsx pausingDapClient.ts PORT FILE LINE` connects to a DAP port (e.g.
 * `dbgrelay attach`), attaches as VS Code does with a breakpoint at FILE:LINE, prints
 * `stopped at line N` once the program stops there, and then waits for ever.
 */
import { attachSession, waitForStop } from './relayClient.js';

const [port, file, line] = process.argv.slice(2);
if (!port || !file || !line) {
  console.error('usage: pausingDapClient.ts PORT FILE LINE');
  process.exit(2);
}
const client = await attachSession(Number(port), { breakpoints: { path: file, lines: [{ line: Number(line) }] } });
const { frame } = await waitForStop(client, 'breakpoint', 30_000);
console.log(`stopped at line ${frame.line}`);
setInterval(() => undefined, 60_000); // hold the session (and the pause) until killed
