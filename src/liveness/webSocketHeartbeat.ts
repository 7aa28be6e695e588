import type { WebSocketTransport } from '../transport/webSocketTransport.js';
import { SilenceWatch } from './silenceWatch.js';

/**
 * Pings the peer of `transport` every `intervalMs` (which also keeps front ends that
 * drop idle connections from doing so) and closes it with `HEARTBEAT_TIMEOUT` when
 * nothing, not even a pong, arrived for `timeoutMs`: a half-open peer is found within
 * that bound. `onMissed` is told once when that happens (metrics). Call it once per
 * transport.
 */
export function startWebSocketHeartbeat(transport: WebSocketTransport, intervalMs: number, timeoutMs: number, onMissed?: () => void): void {
  const silence = new SilenceWatch(transport.remoteAddress, {
    timeoutMs,
    tickMs: Math.min(intervalMs, timeoutMs),
    onTick: () => transport.ping(),
    onSilent: (error) => {
      onMissed?.();
      transport.fail(error);
    },
  });
  transport.onHeard(() => silence.heard());
  transport.onClose(() => silence.stop());
}
