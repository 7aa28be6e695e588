import type { DebugProtocol } from '@vscode/debugprotocol';

/**
 * First `seq` of the messages the relay originates on a session (its pipe's
 * `ownSeqBase`): far above any client's (which count up from 1) and below the
 * client-side rewriter's range (0x4000_0000), so the adapter can tell every request's
 * answer apart.
 */
export const relaySeqBase = 0x2000_0000;

/**
 * A DAP `output` event from the relay (category `important` by default: VS Code shows
 * it prominently; `console` for notices that belong in the debug console).
 */
export function relayOutputEvent(seq: number, text: string, category: 'important' | 'console' = 'important'): DebugProtocol.OutputEvent {
  return { type: 'event', seq, event: 'output', body: { category, output: `dbgrelay: ${text}\n` } };
}
