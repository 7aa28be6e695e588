import type { createConnection } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { RelayError } from '../common/relayError.js';
import { upgradeWithin } from '../dial/upgradeDeadline.js';
import { proxyForRelay } from '../dial/httpsProxy.js';
import type { RelayDialOptions } from '../dial/relayDialer.js';
import { apiBasePath, hostForUrl } from '../dial/relayEndpoint.js';
import { httpRefusalError } from '../dial/relayRefusal.js';
import { exchangeHello } from '../dial/tcpsHello.js';
import { connectVerifiedTls, formatAddress } from '../dial/tlsConnect.js';
import { maxHelloBytes, protocolVersion } from '../protocol/controlMessages.js';
import { checkResult, type DoctorCheckResult } from './doctorCheck.js';

/** Bound on a refusal's body read from the relay. */
const maxRefusalBytes = 64 * 1024;

/** Opens the agent's control connection (wss `/v1/agent` upgrade or tcps `agent` hello) with the credential, and closes it before any `register`. */
async function openControlConnection(options: RelayDialOptions): Promise<void> {
  const { endpoint } = options;
  const where = formatAddress(endpoint);
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const proxy = proxyForRelay(endpoint.host, endpoint.port, options.env ?? process.env);
  const socket = await connectVerifiedTls(endpoint, options.trust, remaining(), options.identity, proxy);
  if (endpoint.scheme === 'tcps') {
    const credential = options.token !== undefined ? { token: options.token } : options.secret !== undefined ? { secret: options.secret } : {};
    try {
      await exchangeHello(socket, { dbgrelay: protocolVersion, op: 'agent', ...credential }, { maxReplyBytes: maxHelloBytes, timeoutMs: remaining(), where });
    } finally {
      socket.destroy();
    }
    return;
  }
  const authorization =
    options.token !== undefined
      ? { Authorization: `Bearer ${options.token}` }
      : options.secret !== undefined
        ? { Authorization: `Basic ${Buffer.from(`${options.secret}:`, 'utf8').toString('base64')}` }
        : {};
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`wss://${hostForUrl(endpoint.host)}:${endpoint.port}${apiBasePath(endpoint)}/v1/agent`, {
      createConnection: (() => socket as TLSSocket) as unknown as typeof createConnection,
      headers: authorization,
      handshakeTimeout: remaining(),
      perMessageDeflate: false,
      followRedirects: false,
    });
    upgradeWithin(ws, socket, remaining(), () => reject(new RelayError('RELAY_UNREACHABLE', `the relay at ${where} did not answer the WebSocket upgrade within the timeout`)));
    ws.once('open', () => {
      ws.close(1000, 'doctor: credential checked');
      resolve();
    });
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxRefusalBytes) chunks.push(chunk);
      });
      res.once('end', () => {
        reject(httpRefusalError(res.statusCode ?? 0, res.statusMessage ?? '', Buffer.concat(chunks).toString('utf8'), options.secret ?? options.token));
        req.destroy();
      });
    });
    ws.once('error', (error) => {
      socket.destroy();
      reject(new RelayError('RELAY_UNREACHABLE', `WebSocket handshake with the relay at ${where} failed: ${error.message}`, { cause: error }));
    });
  });
}

/**
 * Presents an agent's credential to the relay the way the agent does: it opens the
 * control connection (docs/protocol.md §5: the wss `/v1/agent` upgrade, or the tcps
 * `agent` hello), where the relay authenticates it and requires the agent role, and
 * closes it before registering anything. Whether the credential covers the target's
 * name (a token's `register:` scopes) is decided at `register`, which is not sent.
 */
export async function checkAgentCredential(options: RelayDialOptions, describe: string, advise: (error: RelayError) => string | undefined): Promise<DoctorCheckResult> {
  try {
    await openControlConnection(options);
    return checkResult('credential', 'ok', `${describe} is accepted for an agent's control connection (the name it registers is checked when it registers)`, {
      details: { source: describe },
    });
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    return checkResult('credential', 'fail', error.message, { code: error.code, fix: advise(error), details: { source: describe } });
  }
}
