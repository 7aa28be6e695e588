import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The test venv's Python (made by test/setupPython.mjs). */
export const venvPython = join(root, '.venv', 'bin', 'python');
/** The end-to-end debuggee. */
export const webAppPath = join(root, 'test', 'fixtures', 'apps', 'webApp.py');

/** Line number of the `# BP_<marker>` line in the debuggee. */
export function markerLine(marker: string, file = webAppPath): number {
  const index = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes(`# BP_${marker}`));
  if (index < 0) throw new Error(`no BP_${marker} marker in ${file}`);
  return index + 1;
}

/** Environment variable that marks every process a test debuggee starts (bridge, adapter, children). */
const runMarkerVariable = 'DBGRELAY_E2E_RUN';

/**
 * Processes whose environment carries `marker`: the debuggee and everything it
 * started, including debugpy's adapter, which daemonizes away from its parent.
 */
export function processesMarked(marker: string): number[] {
  const needle = `${runMarkerVariable}=${marker}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

/** A Python program started under the agent (`python -m dbgrelay … app.py`). */
export interface Debuggee {
  readonly process: ChildProcess;
  readonly agentLogFile: string;
  /** Everything the program printed (stdout and stderr). */
  output(): string;
  /** Resolves when `pattern` matches output printed after `fromIndex` (an earlier {@link outputLength}). */
  waitForOutput(pattern: RegExp, timeoutMs?: number, fromIndex?: number): Promise<string>;
  outputLength(): number;
  /** Creates a trigger file the app consumes once (see webApp.py). */
  trigger(name: string): void;
  /** Resolves with the exit code when the process exits. */
  readonly exited: Promise<number | null>;
  /** The debuggee and every process it started that is still alive. */
  family(): number[];
  /** Kills the debuggee and every process it started. */
  kill(): void;
}

/** Starts the debuggee under the agent, dialing `relayUrl` as target `name`. */
export function startDebuggee(options: {
  relayUrl: string;
  name: string;
  secret: string | undefined;
  caFile?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Program to run (default: the web app) and its arguments. */
  script?: string;
  scriptArgs?: string[];
  /** Python arguments before the script, instead of `-m dbgrelay --relay URL --name NAME` (relayUrl and name are then unused). */
  pythonArgs?: string[];
  /** Working directory of the program (default: this process's). */
  cwd?: string;
}): Debuggee {
  if (!existsSync(venvPython)) throw new Error(`${venvPython} is missing: run node test/setupPython.mjs (npm test does)`);
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-debuggee-'));
  const agentLogFile = join(dir, 'agent.log');
  const args = options.pythonArgs ? [...options.pythonArgs] : ['-m', 'dbgrelay', '--relay', options.relayUrl, '--name', options.name];
  if (options.caFile) args.push('--ca', options.caFile);
  args.push(...(options.extraArgs ?? []), options.script ?? webAppPath, ...(options.scriptArgs ?? []));
  const marker = randomUUID();
  const env: NodeJS.ProcessEnv = { ...process.env, [runMarkerVariable]: marker, PYTHONUNBUFFERED: '1', APP_TRIGGER_DIR: dir, DBGRELAY_AGENT_LOG: agentLogFile, ...options.env };
  delete env['DBGRELAY_SECRET'];
  if (options.secret !== undefined) env['DBGRELAY_SECRET'] = options.secret;
  const child = spawn(venvPython, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
  let text = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    agentLogFile,
    output: () => text,
    outputLength: () => text.length,
    trigger: (name) => writeFileSync(join(dir, name), ''),
    exited,
    family: () => processesMarked(marker),
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const pid of processesMarked(marker)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
    waitForOutput: (pattern, timeoutMs = 15_000, fromIndex = 0) =>
      new Promise<string>((resolve, reject) => {
        const check = (): boolean => {
          const match = pattern.exec(text.slice(fromIndex));
          if (!match) return false;
          clearTimeout(timer);
          listeners.delete(onOutput);
          resolve(match[0]);
          return true;
        };
        const onOutput = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(onOutput);
          reject(new Error(`debuggee printed nothing matching ${pattern} within ${timeoutMs} ms; output tail:\n${text.slice(-2000)}`));
        }, timeoutMs);
        if (!check()) listeners.add(onOutput);
      }),
  };
}
