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

/**
 * The warning a client gets at attach when the target's server kills a worker that
 * stops answering: the relay resumes a pause before that, and how to debug longer.
 */
export function killTimerNotice(killTimer: { readonly seconds: number; readonly source: string }, maxPauseMs: number): string {
  return (
    `this process's server kills it when it does not answer for ${killTimer.seconds} s (${killTimer.source}), ` +
    `so the relay resumes it after ${maxPauseMs / 1000} s paused; to debug longer, raise ${killTimer.source} for debugging ` +
    "and keep the relay's bound (pauseWatchdog.maxPauseMs or pauseWatchdog.targets) below it"
  );
}
