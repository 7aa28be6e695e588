import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testKeyPair } from '../../support/keys/sshKeys.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SshCredentialSource } from '../../../src/ssh/sshAuth.js';
import { sshConnectError } from '../../../src/ssh/sshErrors.js';
import { connectHop, type SshHopSpec } from '../../../src/ssh/sshHop.js';

const dir = mkdtempSync(join(tmpdir(), 'ssh-hop-'));
const identityFile = join(dir, 'id');
writeFileSync(identityFile, testKeyPair().private, { mode: 0o600 });
const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
});

/** A loopback TCP server that accepts and never says anything (a host that hangs in the handshake). */
async function silentServer(): Promise<number> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function spec(port: number, readyTimeoutMs: number): SshHopSpec {
  return {
    user: 'deploy',
    host: '127.0.0.1',
    port,
    label: `deploy@127.0.0.1:${port}`,
    credential: new SshCredentialSource({ identityFile }, 'targets.t.ssh'),
    hostKeys: { kind: 'pinned', fingerprints: ['SHA256:TSq0PdKkc9+MrlMaNLWKNXi1TsMRbVAmFpDzioa5vqA'] },
    keepaliveIntervalMs: 0,
    keepaliveCountMax: 3,
    readyTimeoutMs,
    idleTimeoutMs: 0,
    key: 'k',
  };
}

describe('one ssh connection', () => {
  it('gives up a host that never completes the handshake after readyTimeoutMs', async () => {
    const port = await silentServer();
    await expect(connectHop(spec(port, 200), undefined)).rejects.toMatchObject({
      code: 'SSH_UNREACHABLE',
      message: `ssh host deploy@127.0.0.1:${port} did not complete the handshake and authentication within 200 ms (ssh.readyTimeoutMs)`,
    });
  });

  it('reports a refused TCP connection as SSH_UNREACHABLE with the socket error', async () => {
    const port = await silentServer();
    servers.pop()!.close();
    await expect(connectHop(spec(port, 5000), undefined)).rejects.toMatchObject({
      code: 'SSH_UNREACHABLE',
      message: `ssh host deploy@127.0.0.1:${port} is not reachable (ECONNREFUSED)`,
    });
  });

  it('maps ssh2 error levels to stable codes', () => {
    const error = (message: string, level: string) => Object.assign(new Error(message), { level });
    const details = { identity: 'agent /run/a.sock', readyTimeoutMs: 1 };
    expect(sshConnectError(error('All configured authentication methods failed', 'client-authentication'), 'u@h:22', details)).toMatchObject({
      code: 'SSH_AUTH_FAILED',
      message: 'ssh authentication as u@h:22 failed (the host refused agent /run/a.sock)',
    });
    expect(sshConnectError(error('Failed to connect to agent', 'agent'), 'u@h:22', details).code).toBe('SSH_AUTH_FAILED');
    expect(sshConnectError(error('Keepalive timeout', 'client-timeout'), 'u@h:22', details).message).toBe('ssh connection to u@h:22 stopped answering keepalives');
    expect(sshConnectError(error('Protocol mismatch', 'protocol'), 'u@h:22', details).code).toBe('SSH_UNREACHABLE');
  });
});
