import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';

/**
 * TLS 1.3 suites, as Node offers them by default (all AEAD with ephemeral key
 * exchange). Listed because a `ciphers` string without any TLS 1.3 suite turns TLS 1.3 off.
 */
export const tls13CipherSuites: readonly string[] = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

/**
 * TLS 1.2 suites, in order of preference: ECDHE key exchange (forward secrecy) with an
 * AEAD cipher only. No RSA key exchange, no DHE, no CBC, no SHA-1 MAC. The Python agent
 * offers the same list (agent-py/dbgrelay/trust/policy.py).
 */
export const tls12CipherSuites: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/**
 * The TLS policy of every relay listener and of the client's connections to the relay:
 * TLS 1.2 or newer, the suites above, the server's order of preference, and no
 * renegotiation (`SSL_OP_NO_RENEGOTIATION`: a peer asking for one gets a
 * `no_renegotiation` alert and the connection fails; Node would otherwise allow a
 * client three renegotiations every ten minutes). Spread it into every server's
 * options and every `setSecureContext` call: a secure context built without it falls
 * back to Node's defaults.
 */
export const tlsPolicy: Readonly<Pick<SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder' | 'secureOptions'>> = Object.freeze({
  minVersion: 'TLSv1.2',
  ciphers: [...tls13CipherSuites, ...tls12CipherSuites].join(':'),
  honorCipherOrder: true,
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
});
