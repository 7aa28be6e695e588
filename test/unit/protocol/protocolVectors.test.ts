import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { heartbeatEvent, heartbeatMessage } from '../../../src/liveness/heartbeat.js';
import { isRelayError } from '../../../src/common/relayError.js';
import {
  agentToRelayMessage,
  controlErrorMessage,
  goawayMessage,
  guardMessage,
  helloLine,
  helloReply,
  httpErrorBody,
  openFailedMessage,
  openMessage,
  pingMessage,
  pongMessage,
  registeredMessage,
  registerMessage,
  relayToAgentMessage,
  statusMessage,
} from '../../../src/protocol/controlMessages.js';
import { credentialFromHello, parseHelloLine } from '../../../src/listeners/helloLine.js';

/** The session heartbeat is a DAP event of the relay's own (§6): exactly what {@link heartbeatMessage} builds. */
const heartbeatEventSchema = z.strictObject({ seq: z.literal(0), type: z.literal('event'), event: z.literal(heartbeatEvent) });

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

function blocks(kind: 'vector' | 'invalid'): Array<[string, unknown]> {
  const pattern = new RegExp('```json ' + kind + ':(\\w+)\\n([\\s\\S]*?)```', 'g');
  return [...doc.matchAll(pattern)].map((m) => [m[1]!, JSON.parse(m[2]!)]);
}

/** Which schema each vector name must satisfy. */
const schemaByName: Record<string, z.ZodType> = {
  httpError: httpErrorBody,
  helloAttach: helloLine,
  helloAgent: helloLine,
  helloAgentData: helloLine,
  helloAgentDataHeartbeat: helloLine,
  helloAgentDataHeartbeatTooShort: helloLine,
  helloTargets: helloLine,
  helloAgentToken: helloLine,
  helloAttachToken: helloLine,
  helloAttachWithAttachSecret: helloLine,
  helloAttachTakeover: helloLine,
  helloAttachHeartbeat: helloLine,
  helloAttachPrefetch: helloLine,
  openPrefetch: openMessage,
  openPrefetchTooLarge: openMessage,
  helloOkHeartbeat: helloReply,
  heartbeatEvent: heartbeatEventSchema,
  helloTakeoverNotBoolean: helloLine,
  helloTokenNotString: helloLine,
  helloWrongVersion: helloLine,
  helloUnknownOp: helloLine,
  helloOk: helloReply,
  helloRefused: helloReply,
  targets: helloReply,
  targetsConfigured: helloReply,
  register: registerMessage,
  registerBadName: registerMessage,
  registerWithAttachSecret: registerMessage,
  registerEmptyAttachSecret: registerMessage,
  registered: registeredMessage,
  ping: pingMessage,
  pong: pongMessage,
  open: openMessage,
  openFailed: openFailedMessage,
  controlError: controlErrorMessage,
  goaway: goawayMessage,
  guardResumed: guardMessage,
  guardUnknownEvent: guardMessage,
  statusBroken: statusMessage,
  statusOk: statusMessage,
  statusUnknownState: statusMessage,
  targetsBrokenDebugger: helloReply,
  helloTargetsPaged: helloLine,
  helloTargetsLimitTooLarge: helloLine,
  targetsPage: helloReply,
};

const vectors = blocks('vector');
const invalid = blocks('invalid');

describe('docs/protocol.md test vectors', () => {
  it('has vectors and invalid examples', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(15);
    expect(invalid.length).toBeGreaterThanOrEqual(3);
  });

  it.each(vectors)('vector %s is accepted and survives a round trip unchanged', (name, value) => {
    const schema = schemaByName[name];
    expect(schema, `no schema mapped for vector ${name}`).toBeDefined();
    const parsed = schema!.parse(value);
    expect(JSON.parse(JSON.stringify(parsed))).toEqual(value);
  });

  it.each(invalid)('invalid example %s is rejected', (name, value) => {
    const schema = schemaByName[name];
    expect(schema, `no schema mapped for invalid example ${name}`).toBeDefined();
    expect(schema!.safeParse(value).success).toBe(false);
  });

  it('the heartbeat vector is the message the relay and the client send', () => {
    expect(Object.fromEntries(vectors)['heartbeatEvent']).toEqual(heartbeatMessage());
  });

  it('control vectors fit the direction unions', () => {
    const byName = Object.fromEntries(vectors);
    for (const name of ['register', 'registerWithAttachSecret', 'pong', 'openFailed', 'controlError', 'guardResumed', 'statusBroken', 'statusOk'])
      expect(agentToRelayMessage.safeParse(byName[name]).success).toBe(true);
    for (const name of ['registered', 'ping', 'open', 'controlError']) expect(relayToAgentMessage.safeParse(byName[name]).success).toBe(true);
  });

  it('the relay parses the hello vectors and refuses the invalid ones with the right code', () => {
    const byName = Object.fromEntries([...vectors, ...invalid]);
    for (const name of ['helloAttach', 'helloAgent', 'helloAgentData', 'helloTargets', 'helloAgentToken', 'helloAttachWithAttachSecret']) {
      expect(parseHelloLine(JSON.stringify(byName[name])).op).toBe((byName[name] as { op: string }).op);
    }
    expect(credentialFromHello(parseHelloLine(JSON.stringify(byName['helloAgentToken'])))).toMatchObject({ kind: 'bearer' });
    expect(credentialFromHello(parseHelloLine(JSON.stringify(byName['helloAttachWithAttachSecret'])))).toEqual({
      kind: 'secret',
      secret: 'web-1-attach-example',
    });
    const codeOf = (name: string): string | undefined => {
      try {
        parseHelloLine(JSON.stringify(byName[name]));
      } catch (error) {
        return isRelayError(error) ? error.code : 'not a RelayError';
      }
      return undefined;
    };
    expect(codeOf('helloWrongVersion')).toBe('PROTOCOL_VERSION');
    expect(codeOf('helloUnknownOp')).toBe('BAD_REQUEST');
    expect(codeOf('helloTokenNotString')).toBe('BAD_REQUEST');
    expect(codeOf('helloTakeoverNotBoolean')).toBe('BAD_REQUEST');
    expect(parseHelloLine(JSON.stringify(byName['helloAttachTakeover']))).toMatchObject({ op: 'attach', target: 'web-1', takeover: true });
    expect(parseHelloLine(JSON.stringify(byName['helloAttach']))).not.toHaveProperty('takeover');
  });
});
