import { authRows } from './hostileAuthRows.js';
import { protocolRows } from './hostileProtocolRows.js';
import type { HostileRow, RowContext } from './hostileRowKit.js';

export type { HostileRow, RowContext } from './hostileRowKit.js';
export { legitimateSession, sendDap } from './hostileRowKit.js';

/** Every row of the hostile-input table (test/e2e/hostileInputs.test.ts), built against `c`. */
export function hostileRows(c: RowContext): HostileRow[] {
  return [...authRows(c), ...protocolRows(c)];
}
