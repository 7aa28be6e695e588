import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { attachSession, waitForStop } from '../relay/relayClient.js';

/**
 * A DAP client as its own process, for tests that kill the client with SIGKILL:
 * `node --import tsx pausingDapClient.ts PORT FILE LINE` connects to a DAP port (e.g.
 * `dbgrelay attach`), attaches as VS Code does with a breakpoint at FILE:LINE, prints
 * `stopped at line N` once the program stops there, and then waits for ever.
 * {@link startPausingDapClient} starts it.
 */

const script = fileURLToPath(import.meta.url);

/** A pausing DAP client process holding a program paused at a breakpoint. */
export interface DapClientProcess {
  readonly child: ChildProcess;
  /** Resolves with the line once the client printed that the program stopped there. */
  readonly stopped: Promise<number>;
}

/**
 * Starts the pausing DAP client as its own process against DAP port `port`, with a
 * breakpoint at `file`:`line`; the child is added to `started` at once (for cleanup).
 * `stopped` rejects if the client exits or prints nothing within `timeoutMs`.
 */
export function startPausingDapClient(port: number, file: string, line: number, started: ChildProcess[], timeoutMs = 30_000): DapClientProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port), file, String(line)], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let text = '';
  const stopped = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the DAP client reported no stop within ${timeoutMs} ms:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = /stopped at line (\d+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the DAP client exited (${code ?? signal}) before the program stopped:\n${text}`));
    });
  });
  stopped.catch(() => undefined); // the caller awaits it; an exit after the stop is expected
  return { child, stopped };
}

/** The client process itself: attach, report the stop, hold the pause until killed. */
async function runPausingClient(args: readonly string[]): Promise<void> {
  const [port, file, line] = args;
  if (!port || !file || !line) {
    console.error('usage: pausingDapClient.ts PORT FILE LINE');
    process.exit(2);
  }
  const client = await attachSession(Number(port), { breakpoints: { path: file, lines: [{ line: Number(line) }] } });
  const { frame } = await waitForStop(client, 'breakpoint', 30_000);
  console.log(`stopped at line ${frame.line}`);
  setInterval(() => undefined, 60_000); // hold the session (and the pause) until killed
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runPausingClient(process.argv.slice(2));
