import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'src', 'cli', 'main.ts');

/** A `dbgrelay` command running as its own process. */
export interface CliProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
  /** SIGINT (as Ctrl+C), then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs `dbgrelay <args>` (the CLI source through tsx) with `env` on top of a copy of
 * this process's environment without any `DBGRELAY_*` or proxy variables, so only
 * what the test passes counts. With `terminal`, `script` gives the command a
 * pseudo-terminal, as when a person runs it.
 */
export function runDbgrelay(args: string[], env: Record<string, string> = {}, options: { terminal?: boolean } = {}): CliProcess {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^DBGRELAY_|_proxy$/i.test(name)) clean[name] = value;
  }
  const command = [process.execPath, '--import', 'tsx', cli, ...args];
  const [file, argv] = options.terminal
    ? ['script', ['-qfec', command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' '), '/dev/null']]
    : [command[0]!, command.slice(1)];
  const child = spawn(file, argv, { cwd: root, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor: async (pattern, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(text);
        if (match) return match;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in the output of dbgrelay ${args[0]}:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}
