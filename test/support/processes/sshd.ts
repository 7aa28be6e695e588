import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeLoopbackPort } from './listeningDebuggee.js';

const sshdBinary = '/usr/sbin/sshd';

/** An ssh key pair made with ssh-keygen in a test directory. */
export interface TestKey {
  /** Private key file. */
  readonly file: string;
  /** `ssh-ed25519 AAAA… comment` */
  readonly publicLine: string;
  /** `SHA256:…` as ssh-keygen prints it. */
  readonly fingerprint: string;
}

/** Makes an ed25519 key pair `dir/name` (encrypted with `passphrase` when given). */
export function makeKey(dir: string, name: string, passphrase = ''): TestKey {
  if (!existsSync(sshdBinary)) throw new Error(`${sshdBinary} is missing: run node test/setupSystem.mjs (npm test does)`);
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', file]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`])
    .toString()
    .split(' ')[1]!;
  return { file, publicLine: readFileSync(`${file}.pub`, 'utf8').trim(), fingerprint };
}

/** A real OpenSSH sshd on 127.0.0.1 with its own config, host key and authorized keys, run as the current user. */
export interface TestSshd {
  readonly port: number;
  readonly hostKey: TestKey;
  /** sshd's log (LogLevel VERBOSE) so far. */
  logText(): string;
  /** Connections sshd authenticated so far (its `Accepted publickey` lines), optionally for one key. */
  acceptedLogins(key?: TestKey): number;
  /** Kills sshd and every per-connection process it forked (established connections drop at once). */
  kill(): void;
  /** Stops (SIGSTOP) or continues (SIGCONT) sshd and its per-connection processes: a host that stopped answering. */
  freeze(frozen: boolean): void;
  /** Starts sshd again on the same port with the same keys. */
  restart(): Promise<void>;
}

/** Starts sshd in `dir` (its files are named `<name>_*`), accepting `authorized` keys. */
export async function startSshd(dir: string, name: string, authorized: readonly TestKey[]): Promise<TestSshd> {
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on
  const hostKey = makeKey(dir, `${name}_host_key`);
  const port = await freeLoopbackPort();
  const logFile = join(dir, `${name}_sshd.log`);
  const authorizedKeys = join(dir, `${name}_authorized_keys`);
  writeFileSync(authorizedKeys, authorized.map((key) => key.publicLine).join('\n') + '\n', { mode: 0o600 });
  const configFile = join(dir, `${name}_sshd_config`);
  writeFileSync(
    configFile,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey.file}`,
      `PidFile ${join(dir, `${name}_sshd.pid`)}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  writeFileSync(logFile, '');
  let child: ChildProcess | undefined;
  const logText = (): string => readFileSync(logFile, 'utf8');
  const start = async (): Promise<void> => {
    const from = logText().length;
    const started = spawn(sshdBinary, ['-D', '-E', logFile, '-f', configFile], { stdio: 'ignore' });
    child = started;
    const deadline = Date.now() + 10_000;
    while (!logText().slice(from).includes(`Server listening on 127.0.0.1 port ${port}`)) {
      if (started.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start on port ${port}:\n${logText().slice(from)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await start();
  return {
    port,
    hostKey,
    logText,
    acceptedLogins: (key) =>
      logText()
        .split('\n')
        .filter((line) => line.includes('Accepted publickey') && (key === undefined || line.includes(key.fingerprint))).length,
    kill: () => signalFamily(child, 'SIGKILL'),
    freeze: (frozen) => signalFamily(child, frozen ? 'SIGSTOP' : 'SIGCONT'),
    restart: start,
  };
}

/** Sends `signal` to sshd and every process it forked (by pid). */
function signalFamily(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null) return;
  for (const pid of [...descendantsOf(child.pid), child.pid]) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Pids of every process below `pid` (sshd forks one or two processes per connection). */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may contain spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const result: number[] = [];
  const walk = (parent: number): void => {
    for (const child of children.get(parent) ?? []) {
      result.push(child);
      walk(child);
    }
  };
  walk(pid);
  return result;
}

/** An ssh-agent on a socket in a test directory, holding the given keys. */
export interface TestSshAgent {
  readonly socket: string;
  stop(): void;
}

/** Starts `ssh-agent -D -a SOCKET` and adds `keys` with ssh-add. */
export async function startSshAgent(dir: string, keys: readonly TestKey[]): Promise<TestSshAgent> {
  const socket = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  let spawnError: Error | undefined;
  agent.once('error', (error) => (spawnError = error));
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (spawnError) throw new Error(`ssh-agent could not be started (${spawnError.message}): run node test/setupSystem.mjs (npm test does)`);
    if (agent.exitCode !== null || Date.now() > deadline) throw new Error('ssh-agent did not create its socket');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const key of keys) execFileSync('ssh-add', ['-q', key.file], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  return {
    socket,
    stop: () => {
      if (agent.exitCode === null) agent.kill();
    },
  };
}
