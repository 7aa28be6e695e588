import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:https';
import { tlsPolicy } from '../common/tlsPolicy.js';
import type { WssListenerConfig } from '../config/configSchema.js';
import { clientCertificateServerOptions } from './clientCertificateTls.js';
import type { ListenerContext } from './listenerContext.js';

/**
 * What a whole HTTP request may take beyond its handshake and an agent's open
 * (`limits.handshakeTimeoutMs` + `limits.openTimeoutMs`): 1 s, so that an attach the
 * open timeout ends is answered with `AGENT_OPEN_TIMEOUT` before Node cuts the request.
 */
export const requestTimeoutSlackMs = 1_000;

/**
 * Bounds on how often Node checks `headersTimeout`/`requestTimeout` (its default is
 * every 30 s): a quarter of `limits.handshakeTimeoutMs`, at least every 1 s so that a
 * client dripping its headers is cut near the bound, at most every 50 ms so that a
 * tiny handshake timeout does not make the check spin.
 */
export const connectionsCheckBoundsMs = { fastest: 50, slowest: 1_000 } as const;

/**
 * The HTTPS server of the `wss` listener (TLS 1.2+, the relay's suites, client
 * certificates as configured) with every handshake and request bound of `limits.*`;
 * with `listeners.wss.tls: false`, plain HTTP behind a TLS-terminating front end
 * (loopback only, checked in config).
 */
export function createWssServer(context: ListenerContext, listener: WssListenerConfig): Server {
  const { config } = context;
  const timeouts = {
    headersTimeout: config.limits.handshakeTimeoutMs,
    requestTimeout: config.limits.handshakeTimeoutMs + config.limits.openTimeoutMs + requestTimeoutSlackMs,
    // Node checks headersTimeout/requestTimeout only this often (default 30 s): without
    // it a client that drips its headers holds the connection far past the bound.
    connectionsCheckingInterval: Math.max(connectionsCheckBoundsMs.fastest, Math.min(connectionsCheckBoundsMs.slowest, Math.floor(config.limits.handshakeTimeoutMs / 4))),
    keepAliveTimeout: config.limits.httpKeepAliveTimeoutMs,
  };
  return listener.tls
    ? createServer({
        cert: context.tls.cert,
        key: context.tls.key,
        ...tlsPolicy, // ECDHE+AEAD suites only, no renegotiation
        ...clientCertificateServerOptions(listener.clientCertificates, context.tls.clientCa),
        handshakeTimeout: config.limits.handshakeTimeoutMs,
        ...timeouts,
      })
    : createHttpServer(timeouts);
}
