import { WebSocket } from 'ws';
import { RelayError } from '../common/relayError.js';
import { upgradeWithin } from '../dial/upgradeDeadline.js';
import { authorization, connectRelay, credentialOf, credentialText, deadlineOf, helloCredential, useSocket, type RelayDialOptions } from '../dial/relayRequests.js';
import { apiBasePath, hostForUrl } from '../dial/relayEndpoint.js';
import { httpRefusalError } from '../dial/relayRefusal.js';
import { exchangeHello } from '../dial/tcpsHello.js';
import { formatAddress } from '../dial/tlsConnect.js';
import { maxHelloBytes, protocolVersion } from '../protocol/controlMessages.js';
import { checkResult, type DoctorCheckResult } from './doctorCheck.js';

/** Bound on a refusal's body read from the relay. */
const maxRefusalBytes = 64 * 1024;

/** Opens the agent's control connection (wss `/v1/agent` upgrade or tcps `agent` hello) with the credential, and closes it before any `register`. */
async function openControlConnection(options: RelayDialOptions): Promise<void> {
  const { endpoint } = options;
  const where = formatAddress(endpoint);
  const remaining = deadlineOf({ ...options, timeoutMs: options.timeoutMs ?? 5_000 });
  const socket = await connectRelay(options, remaining);
  const credential = credentialOf(options);
  if (endpoint.scheme === 'tcps') {
    try {
      await exchangeHello(socket, { dbgrelay: protocolVersion, op: 'agent', ...helloCredential(credential) }, { maxReplyBytes: maxHelloBytes, timeoutMs: remaining(), where });
    } finally {
      socket.destroy();
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`wss://${hostForUrl(endpoint.host)}:${endpoint.port}${apiBasePath(endpoint)}/v1/agent`, {
      createConnection: useSocket(socket),
      headers: authorization(credential),
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
        reject(httpRefusalError(res.statusCode ?? 0, res.statusMessage ?? '', Buffer.concat(chunks).toString('utf8'), credentialText(credential)));
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
