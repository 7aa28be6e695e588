import { fetchTargetPage, type RelayDialOptions } from '../dial/relayDialer.js';
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
