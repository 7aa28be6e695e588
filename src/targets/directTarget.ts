import { readFileSync } from 'node:fs';
import { dialDirectEndpoint } from '../dial/directEndpointDialer.js';
import { parseRelayEndpoint } from '../dial/relayEndpoint.js';
import { caTrust, pinTrust, systemTrust, type TlsTrust } from '../dial/tlsTrust.js';
import { RelayError } from '../common/relayError.js';
import type { SchemeDialerFactory } from './schemeDialer.js';
import { hostPort } from '../common/hostPort.js';

/** Reads a configured secret or file; errors name the key, never the content. */
function readKey<T>(name: string, key: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new RelayError('CONFIG_INVALID', `targets.${name}.${key}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * `tcps://[SECRET@]host:port`: a direct debug endpoint (agent-py's ptvsd-style
 * `enable_attach(secret, address, certfile, keyfile)`), dialed with the same hello a
 * client sends the relay. The secret comes from `secretFile`, `secretEnv` or the URL;
 * the endpoint's certificate is checked against `caFile`, a `pin`, or the system store.
 */
export const directTargetDialer: SchemeDialerFactory = ({ name, config, url, relayConfig }) => {
  const port = url.port!;
  let secret = url.userInfo;
  if (config.secretFile !== undefined) secret = readKey(name, 'secretFile', () => readFileSync(config.secretFile!, 'utf8').trim());
  if (config.secretEnv !== undefined) {
    secret = readKey(name, 'secretEnv', () => {
      const value = process.env[config.secretEnv!];
      if (value === undefined || value === '') throw new Error(`environment variable ${config.secretEnv} is not set`);
      return value;
    });
  }
  let trust: TlsTrust = systemTrust;
  if (config.caFile !== undefined) trust = readKey(name, 'caFile', () => caTrust(readFileSync(config.caFile!, 'utf8'), config.caFile!));
  if (config.pin !== undefined) trust = readKey(name, 'pin', () => pinTrust(config.pin!));
  const endpoint = parseRelayEndpoint(`tcps://${hostPort(url.host, port)}`);
  return {
    dial: () =>
      dialDirectEndpoint({
        endpoint,
        trust,
        ...(secret !== undefined ? { secret } : {}),
        timeoutMs: relayConfig.limits.openTimeoutMs,
      }),
    describe: { host: url.host, transport: 'tcps', address: `tcps://${hostPort(url.host, port)}` },
  };
};
