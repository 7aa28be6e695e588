import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sourceCli = join(root, 'src', 'cli', 'main.ts');
/** The built CLI, as `npm start` runs it (`npm run build` makes it). */
export const builtCli = join(root, 'dist', 'cli', 'main.js');

/** How {@link runDbgrelay} runs the command. */
export interface RunOptions {
  /** Give the command a pseudo-terminal (`script`), as when a person runs it. */
  readonly terminal?: boolean;
  /** With `terminal`: standard input from /dev/null, the terminal for the output only (as `docker run -t` without `-i`). */
  readonly noTerminalInput?: boolean;
  /** Run the command as PID 1 of a new PID namespace (`unshare`, no root needed), as a container's entry point. */
  readonly asPidOne?: boolean;
  /** Run the built CLI ({@link builtCli}) instead of the source through tsx. */
  readonly built?: boolean;
  /** Flags for Node itself, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** Also append everything the command prints to this file. */
  readonly logFile?: string;
}

/** A `dbgrelay` command running as its own process. */
export interface CliProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The exit status, once the process ended and its output was read to the end ('close'). */
  readonly exited: Promise<number | null>;
  /** SIGINT (as Ctrl+C), then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs `dbgrelay <args>` (the CLI source through tsx, or the built CLI) with `env` on
 * top of a copy of this process's environment without any `DBGRELAY_*` or proxy
 * variables, and with `XDG_CONFIG_HOME` at a folder that does not exist (no client
 * contexts from the user's own config file), so only what the caller passes counts.
 */
export function runDbgrelay(args: string[], env: Record<string, string> = {}, options: RunOptions = {}): CliProcess {
  const clean: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: join(tmpdir(), 'dbgrelay-tests-no-client-config') };
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^DBGRELAY_|_proxy$|^XDG_CONFIG_HOME$/i.test(name)) clean[name] = value;
  }
  const entry = options.built ? [builtCli] : ['--import', 'tsx', sourceCli];
  const command = [
    ...(options.asPidOne ? ['unshare', '--user', '--map-root-user', '--pid', '--fork', '--kill-child'] : []),
    process.execPath,
    ...(options.nodeArgs ?? []),
    ...entry,
    ...args,
  ];
  const shellLine = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ') + (options.noTerminalInput ? ' </dev/null' : '');
  const [file, argv] = options.terminal ? ['script', ['-qfec', shellLine, '/dev/null']] : [command[0]!, command.slice(1)];
  const child = spawn(file, argv, { cwd: root, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const append = (chunk: Buffer): void => {
    text += chunk.toString();
    if (options.logFile) appendFileSync(options.logFile, chunk);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  // 'close', not 'exit': the exit status once the process's output has been read to its end too.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
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

/**
 * `dbgrelay attach <target> --port 0` as its own process against a test relay (CA
 * file, secret in `DBGRELAY_SECRET`), plus `extraArgs`; the child is added to
 * `started` at once (for the test's cleanup), and the promise resolves once it
 * listens, with its local port.
 */
export async function runAttachCli(
  access: { readonly relayUrl: string; readonly caFile: string; readonly secret: string },
  target: string,
  started: ChildProcess[],
  extraArgs: string[] = [],
): Promise<{ attach: CliProcess; port: number }> {
  const attach = runDbgrelay(['attach', target, '--relay', access.relayUrl, '--ca', access.caFile, '--port', '0', ...extraArgs], { DBGRELAY_SECRET: access.secret });
  started.push(attach.child);
  const match = await attach.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
  return { attach, port: Number(match[1]) };
}
