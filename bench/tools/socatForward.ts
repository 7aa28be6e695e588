import { spawn } from 'node:child_process';
import { freePort, waitForPort } from './ports.js';

/** A `socat` TCP forward from a local port to `127.0.0.1:targetPort`. */
export interface SocatForward {
  readonly localPort: number;
  stop(): void;
}

/** Starts `socat TCP-LISTEN:… TCP:127.0.0.1:targetPort` with TCP_NODELAY on both legs. */
export async function startSocatForward(targetPort: number): Promise<SocatForward> {
  const localPort = await freePort();
  const socat = spawn('socat', [`TCP-LISTEN:${localPort},bind=127.0.0.1,reuseaddr,fork,nodelay`, `TCP:127.0.0.1:${targetPort},nodelay`], { stdio: 'ignore' });
  await waitForPort(localPort);
  return { localPort, stop: () => socat.kill() };
}
