import { RelayError } from '../common/relayError.js';
import type { CredentialSource } from './credentialSource.js';

/** What a client command was doing, so a failure can name the fix. */
export interface FailureContext {
  readonly command: 'attach' | 'targets' | 'doctor';
  readonly credential: CredentialSource;
  /** A direct endpoint (`dbgrelay attach tcps://...`), not a relay. */
  readonly direct?: boolean;
  /** `--takeover` was given. */
  readonly takeover?: boolean;
}

/** The sentence that says what to do about `error`, or undefined when its message already says it. */
export function adviceFor(error: RelayError, context: FailureContext): string | undefined {
  switch (error.code) {
    case 'TARGET_BUSY':
      if (context.direct) return 'a debug endpoint serves one debugger at a time: wait until the other one detaches';
      return context.takeover ? undefined : 'an admin can take it over with --takeover (the holder is detached cleanly, the program keeps running)';
    case 'AUTH_REQUIRED':
    case 'AUTH_FAILED': {
      const used = `credential used: ${context.credential.description}`;
      if (context.command !== 'attach' && !context.direct && context.credential.kind === 'secret') {
        return `${used}; if it is a target's attach secret, it allows only attaching (dbgrelay attach <target>), not listing targets: list them with the relay secret or a token with an attach: or admin scope`;
      }
      return used;
    }
    case 'UNKNOWN_TARGET':
      return context.command === 'attach' && !context.direct ? 'start its agent first, or listen anyway with --no-check' : undefined;
    default:
      // TLS failures get their fix from the dial side's hints (the relay's names, CA file and fingerprint).
      return undefined;
  }
}

/**
 * `error` with the fix appended to its message (same code, same cause), or `error`
 * itself when there is nothing to add. A direct endpoint's message never says "relay".
 */
export function withAdvice(error: unknown, context: FailureContext): unknown {
  if (!(error instanceof RelayError)) return error;
  const advice = adviceFor(error, context);
  if (advice === undefined) return error;
  return new RelayError(error.code, `${error.message}; ${advice}`, { cause: error.cause ?? error });
}
