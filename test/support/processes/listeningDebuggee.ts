import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { venvPython, webAppPath } from './debuggee.js';

/** A Python program started under plain debugpy (`python -m debugpy --listen 127.0.0.1:PORT`), no agent. */
export interface ListeningDebuggee {
  readonly process: ChildProcess;
  /** Port of debugpy's adapter on 127.0.0.1. */
  readonly port: number;
  output(): string;
  /** Resolves when `pattern` matches output printed after `fromIndex`. */
  waitForOutput(pattern: RegExp, fromIndex?: number, timeoutMs?: number): Promise<void>;
  kill(): void;
}

/** A port that was free a moment ago on 127.0.0.1 (debugpy's `--listen` needs a number). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts the web app under plain debugpy listening on loopback, as a sidecar target sees it; resolves once it runs. */
export async function startListeningDebuggee(script = webAppPath): Promise<ListeningDebuggee> {
  if (!existsSync(venvPython)) throw new Error(`${venvPython} is missing: run node test/setupPython.mjs (npm test does)`);
  const port = await freeLoopbackPort();
  const child = spawn(venvPython, ['-Xfrozen_modules=off', '-m', 'debugpy', '--listen', `127.0.0.1:${port}`, script], {
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const waitForOutput = (pattern: RegExp, fromIndex = 0, timeoutMs = 15_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (pattern.test(text.slice(fromIndex))) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - started > timeoutMs || child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`debuggee printed nothing matching ${pattern}; output tail:\n${text.slice(-2000)}`));
        }
      }, 20);
    });
  const debuggee: ListeningDebuggee = {
    process: child,
    port,
    output: () => text,
    waitForOutput,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  await waitForOutput(/tick 1\b/);
  return debuggee;
}
