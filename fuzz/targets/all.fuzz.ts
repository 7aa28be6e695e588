import type { FuzzTarget } from './contract.js';
import { fuzz as authorization } from './authorization.fuzz.js';
import { fuzz as config } from './config.fuzz.js';
import { fuzz as controlChannel } from './controlChannel.fuzz.js';
import { fuzz as dapFramer } from './dapFramer.fuzz.js';
import { fuzz as helloLine } from './helloLine.fuzz.js';
import { fuzz as relayUrl } from './relayUrl.fuzz.js';
import { fuzz as upgradeRequest } from './upgradeRequest.fuzz.js';
import { targetNames, type TargetName } from './targetNames.js';

/** Every target by name. */
export const targets: Readonly<Record<TargetName, FuzzTarget>> = { dapFramer, helloLine, controlChannel, upgradeRequest, authorization, relayUrl, config };

/**
 * Every target in one process (the short run inside `npm test`: one start-up instead of
 * seven): the first byte picks the target (its index in {@link targetNames}), the rest
 * is that target's input.
 */
export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  targets[targetNames[data[0]! % targetNames.length]!](data.subarray(1));
}
