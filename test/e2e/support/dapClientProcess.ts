import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), 'pausingDapClient.ts');

/** A {@link script} process holding a program paused at a breakpoint. */
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
