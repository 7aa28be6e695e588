import type { TargetInfo } from '../../../src/protocol/controlMessages.js';

/** A listing entry of an agent target named `name`, with fixed process fields, as a store or a listing holds it. */
export function fakeTargetInfo(name: string, sessions = 0): TargetInfo {
  return {
    name,
    kind: 'agent',
    transport: 'tcps',
    connectedAt: new Date(0).toISOString(),
    sessions,
    labels: {},
    host: 'h',
    pid: 1,
    python: '3',
    debugpy: '1',
    agent: '1',
  } as TargetInfo;
}
