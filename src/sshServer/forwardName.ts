import { isIP } from 'node:net';
import { targetPatternCovers } from '../auth/grants.js';
import { isPlainTargetName } from '../protocol/targetName.js';

/** Why a `tcpip-forward` request was refused, for the log line (never user input beyond the name). */
export type ForwardRefusal = { readonly ok: false; readonly reason: string };

/**
 * Decides whether a key with target patterns `patterns` may register the target that
 * the bind address of a `tcpip-forward` request (RFC 4254 §7.1) names. `ssh -R
 * web-1:0:127.0.0.1:5678` sends `web-1`; a forward without a bind address arrives as
 * `localhost` (or `""`/`*`/an IP address with `-R *:…` or GatewayPorts), which names
 * no target. Patterns match as grants do (`*` any run, `?` one character).
 */
export function checkForwardName(bindAddr: string, patterns: readonly string[]): { readonly ok: true; readonly name: string } | ForwardRefusal {
  if (bindAddr === '' || bindAddr === '*' || bindAddr === 'localhost' || isIP(bindAddr) !== 0) {
    return { ok: false, reason: 'the bind address names the target: use ssh -R <target>:0:127.0.0.1:<debugpy port>' };
  }
  if (!isPlainTargetName(bindAddr)) {
    return { ok: false, reason: 'not a target name (letters, digits, ".", "_", "-", starting with a letter or digit, at most 63)' };
  }
  if (!patterns.some((pattern) => targetPatternCovers(pattern, bindAddr))) {
    return { ok: false, reason: `this key may register only ${patterns.join(', ')}` };
  }
  return { ok: true, name: bindAddr };
}
