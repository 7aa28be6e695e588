import { checkAttachAdmission } from '../dial/relayDialer.js';
import { fetchTargetPage } from '../dial/relayTargetList.js';
import type { RelayDialOptions } from '../dial/relayRequests.js';
import type { TargetInfo } from '../protocol/controlMessages.js';

/**
 * A cursor that sorts just before `name` (docs/protocol.md §7 compares names by code
 * unit): `name` with its last character stepped back and `~`, which sorts after every
 * character a target name may hold. The page after it starts with `name` if it exists.
 */
export function cursorBefore(name: string): string | undefined {
  const last = name.charCodeAt(name.length - 1);
  if (name.length === 0 || last <= 0x20) return undefined;
  return `${name.slice(0, -1)}${String.fromCharCode(last - 1)}~`;
}

/** How long `dbgrelay attach` waits for the listing entry before it prints the launch configuration. */
export const targetLookupTimeoutMs = 3_000;

/**
 * The relay's listing entry of target `name`, fetched as a one-entry page; undefined
 * when the relay does not list it to this credential (an attach secret lists nothing)
 * or cannot be asked.
 */
export async function lookUpTarget(options: RelayDialOptions, name: string): Promise<TargetInfo | undefined> {
  const after = cursorBefore(name);
  if (after === undefined) return undefined;
  try {
    const page = await fetchTargetPage({ ...options, timeoutMs: options.timeoutMs ?? targetLookupTimeoutMs }, { after, limit: 1 });
    return page.targets.find((target) => target.name === name);
  } catch {
    return undefined;
  }
}

/**
 * The entry of target `name` for `dbgrelay attach --no-check`, within one bound: from
 * the relay's attach check (revision 1.15 carries it; a target's attach secret passes
 * it), else from the target list, which is asked only when `secretCredential` is false:
 * a secret may be a target's attach secret, whose refused listing counts as a failed
 * attempt toward the lockout. Undefined when neither gives it.
 */
export async function lookUpTargetEntry(options: RelayDialOptions, name: string, secretCredential: boolean): Promise<TargetInfo | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? targetLookupTimeoutMs);
  try {
    const admission = await checkAttachAdmission({ ...options, target: name, timeoutMs: deadline - Date.now() });
    if (admission.verdict === 'admitted' && admission.target !== undefined) return admission.target;
  } catch {
    // refused (busy, unknown) or unreachable: the list may still say
  }
  if (secretCredential) return undefined;
  return lookUpTarget({ ...options, timeoutMs: Math.max(1, deadline - Date.now()) }, name);
}
