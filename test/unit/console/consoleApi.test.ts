import { mkdtempSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { audit, type ConsoleApiParts, sessionAction } from '../../../src/console/consoleApi.js';
import { ConsoleAuditReads } from '../../../src/console/consoleAuditReads.js';
import { ConsoleLogins } from '../../../src/console/consoleLogins.js';
import type { ResumeOutcome } from '../../../src/session/sessionStatus.js';
import { refusal } from '../../support/keys/jwtFixtures.js';
import { MemoryAuditSink, principal } from '../../support/harness/guardedHarness.js';

/** What a handler wrote: status, headers and the JSON body. */
interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: unknown;
}

function answerRecorder(): { response: ServerResponse; answer: Answer } {
  const answer: Answer = { status: 0, headers: {}, body: undefined };
  const response = {
    writeHead(status: number, headers: Record<string, unknown>) {
      answer.status = status;
      answer.headers = headers;
      return response;
    },
    end(text: string) {
      answer.body = JSON.parse(text);
    },
  } as unknown as ServerResponse;
  return { response, answer };
}

function parts(overrides: Partial<ConsoleApiParts> = {}): ConsoleApiParts {
  return {
    logins: new ConsoleLogins({ lifetimeMs: 60_000, maxLogins: 10, maxLoginsPerPrincipal: 10 }),
    broker: { sessionRecords: () => [], endSession: async () => true, resumeSession: async () => 'resumed' },
    audit: new MemoryAuditSink(),
    auditReads: undefined,
    maxBodyBytes: 65_536,
    pendingActions: new Set(),
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
}

const admin = { principal: principal('relay-secret', ['*']) };

describe('the console API handlers', () => {
  it('answer 429 with Retry-After for an audit page asked for while another is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-console-api-'));
    writeFileSync(join(dir, 'audit.log'), `${JSON.stringify({ event: 'x', target: 'web-1' })}\n`.repeat(5_000));
    const reads = new ConsoleAuditReads({ file: join(dir, 'audit.log'), pageSize: 10, maxScanBytes: 1 << 30 });
    const first = answerRecorder();
    const second = answerRecorder();
    await Promise.all([
      audit(parts({ auditReads: reads }), admin, new URLSearchParams('target=nothing'), first.response),
      audit(parts({ auditReads: reads }), admin, new URLSearchParams(), second.response),
    ]);
    expect(first.answer.status).toBe(200);
    expect([second.answer.status, second.answer.headers['Retry-After'], second.answer.body]).toEqual([429, '1', { error: expect.objectContaining({ code: 'LIMIT_REACHED' }) }]);
  });

  it('answer a resume with what debugpy did: 200 only when it resumed; one action per session at a time', async () => {
    const outcomes: Record<ResumeOutcome, string | undefined> = { resumed: undefined, notStopped: 'BAD_REQUEST', refused: 'AGENT_GONE', busy: 'TARGET_BUSY' };
    for (const [outcome, code] of Object.entries(outcomes) as Array<[ResumeOutcome, string | undefined]>) {
      const { response, answer } = answerRecorder();
      const call = sessionAction(
        parts({ broker: { sessionRecords: () => [], endSession: async () => true, resumeSession: async () => outcome } }),
        admin,
        'ab12',
        'resume',
        response,
      );
      if (code === undefined) {
        await call;
        expect(answer.status).toBe(200);
      } else {
        await refusal(call, code);
      }
    }
    let finish: (ended: boolean) => void = () => undefined;
    const slow = parts({ broker: { sessionRecords: () => [], endSession: () => new Promise<boolean>((resolve) => (finish = resolve)), resumeSession: async () => 'resumed' } });
    const ending = sessionAction(slow, admin, 'ab12', 'end', answerRecorder().response);
    await refusal(sessionAction(slow, admin, 'ab12', 'resume', answerRecorder().response), 'TARGET_BUSY');
    await refusal(sessionAction(slow, admin, 'ab12', 'end', answerRecorder().response), 'TARGET_BUSY');
    finish(true);
    await ending;
    expect(slow.pendingActions.size).toBe(0);
  });
});
