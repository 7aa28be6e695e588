import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentRelayCredential } from '../../../src/cli/agentCredential.js';

const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-agent-credential-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), `${text}\n`);
  return join(dir, name);
};

describe("the agent's relay credential, in agent-py's order", () => {
  it('takes one explicit credential over the environment, then a token or an agent secret, then the attach secret', () => {
    const agentSecretFile = file('agent-secret', 'from-agent-secret-file');
    expect(agentRelayCredential({ agentSecretFile }, { DBGRELAY_TOKEN: 't.o.k' })).toEqual({
      credential: { kind: 'secret', value: 'from-agent-secret-file', source: `the agent secret in --agent-secret-file ${agentSecretFile}` },
    });
    expect(agentRelayCredential({ relay: 'wss://url-secret@relay.example.com' }, { DBGRELAY_AGENT_SECRET: 'env' })).toMatchObject({
      credential: { value: 'url-secret', source: 'the secret@ in the --relay URL' },
    });
    expect(agentRelayCredential({}, { DBGRELAY_TOKEN_FILE: file('token', 'a.b.c'), DBGRELAY_SECRET: 'attach' })).toMatchObject({ credential: { kind: 'token', value: 'a.b.c' } });
    expect(agentRelayCredential({}, { DBGRELAY_AGENT_SECRET_FILE: file('agent', 'agent-env'), DBGRELAY_SECRET: 'attach' })).toMatchObject({
      credential: { kind: 'secret', value: 'agent-env' },
    });
    expect(agentRelayCredential({}, { DBGRELAY_SECRET_FILE: file('attach', 'attach-file') })).toMatchObject({
      credential: { kind: 'secret', value: 'attach-file', source: expect.stringContaining('DBGRELAY_SECRET_FILE') },
    });
  });

  it('gives a CONFIG_INVALID problem instead of throwing for none, two explicit, both environment kinds, or an unreadable file', () => {
    const problem = (choice: ReturnType<typeof agentRelayCredential>): string => ('problem' in choice ? `${choice.problem.code}: ${choice.problem.message}` : 'chosen');
    expect(problem(agentRelayCredential({}, {}))).toMatch(/^CONFIG_INVALID: no relay credential for the agent/);
    expect(problem(agentRelayCredential({ tokenFile: file('t2', 'x.y.z'), relay: 'tcps://s@relay.example.com' }, {}))).toMatch(/give the agent one relay credential/);
    expect(problem(agentRelayCredential({}, { DBGRELAY_TOKEN: 'x.y.z', DBGRELAY_AGENT_SECRET: 's' }))).toMatch(/only one relay credential/);
    expect(problem(agentRelayCredential({}, { DBGRELAY_AGENT_SECRET_FILE: join(dir, 'missing') }))).toMatch(/DBGRELAY_AGENT_SECRET_FILE: cannot read/);
  });
});
