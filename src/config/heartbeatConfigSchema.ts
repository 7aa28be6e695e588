import { z } from 'zod';
import { intBetween } from './schemaFields.js';

/**
 * Schema of `heartbeat` (docs/operations.md "Heartbeats and idle timeouts"): liveness
 * of session connections. Over wss the relay pings every data connection (clients and
 * agents) every `intervalMs`, which also keeps front ends that drop idle connections
 * from doing so; a connection from which nothing (not even a pong) arrived for
 * `timeoutMs` is closed as half-open, and its session detaches the debugger so the
 * debuggee resumes. Over tcps the client sends the heartbeats (hello `heartbeatMs`)
 * and the relay closes the session after max(`timeoutMs`, 3 × the client's interval)
 * of silence.
 */
export const heartbeatConfigSchema = z
  .strictObject({ intervalMs: intBetween(100, 3_600_000), timeoutMs: intBetween(300, 86_400_000) }, { error: 'expected a mapping' })
  .refine((heartbeat) => heartbeat.timeoutMs > heartbeat.intervalMs, { path: ['timeoutMs'], message: 'must be greater than heartbeat.intervalMs' });

/** Defaults: a ping every 20 s stays under every common front end's idle timeout (60 s and up); 60 s of silence is half-open. */
export const heartbeatConfigDefaults = { intervalMs: 20_000, timeoutMs: 60_000 } as const;
