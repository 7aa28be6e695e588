import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '../net/loopbackProxies.js';

const binary = '/usr/bin/redis-server';

/** A real `redis-server` on loopback, without persistence, that a test can stop and start again on the same port. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: every entry is gone, as when a store without persistence crashes. */
  kill(): Promise<void>;
  /** SIGSTOP (true) or SIGCONT (false): a Redis that accepts connections but answers nothing. */
  freeze(frozen: boolean): void;
  /** Starts it again on the same port (empty). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts `redis-server` (installed by test/setupSystem.mjs; the test fails, never skips, when it is missing). */
export async function startRedisServer(): Promise<RedisServer> {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`node test/setupSystem.mjs\` (npm test does) to install redis-server`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server never answered on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const kill = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  const freeze = (frozen: boolean): void => {
    child?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  };
  const stop = async (): Promise<void> => {
    freeze(false);
    await kill();
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, kill, freeze, start, stop };
}
