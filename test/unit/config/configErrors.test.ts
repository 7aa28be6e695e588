import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { configErrorOf, configFile, configTestEnv } from '../../support/harness/configTestKit.js';

/** The message of loading a config file of `lines` (nothing else set). */
function fileError(lines: readonly string[]): { file: string; message: string } {
  const file = configFile(lines);
  return { file, message: configErrorOf(() => loadConfig({ env: configTestEnv, flags: { config: file } })) };
}

describe('relay configuration errors', () => {
  it('suggest the closest key of the same level for an unknown key, with its file and line', () => {
    const { file, message } = fileError(['listeners:', '  wss:', '    prot: 8443', 'audti:', '  enabled: true']);
    expect(message).toContain(`listeners.wss.prot: unknown key; did you mean "port"? (from ${file}:3)`);
    expect(message).toContain(`audti: unknown key; did you mean "audit"? (from ${file}:4)`);
  });

  it('suggest keys inside named entries (targets.NAME) and nothing when no key is close', () => {
    const { file, message } = fileError(['targets:', '  web:', '    ulr: tcp://127.0.0.1:5678', '    zzzzzz: 1']);
    expect(message).toContain(`targets.web.ulr: unknown key; did you mean "url"? (from ${file}:3)`);
    expect(message).toContain(`targets.web.zzzzzz: unknown key (from ${file}:4)`);
  });

  it('name the file and line of a value of the wrong type, with the value given', () => {
    const { file, message } = fileError(['# relay', 'listeners:', '  tcps:', '    port: "eighty"', 'log:', '  level: loud']);
    expect(message).toContain(`listeners.tcps.port: expected integer between 0 and 65535, given "eighty" (from ${file}:4)`);
    expect(message).toMatch(new RegExp(`log\\.level: expected one of [^;]*, given "loud" \\(from ${file}:6\\)`));
  });

  it('name the line of the closest ancestor, as "under", for a key missing from the file', () => {
    const { file, message } = fileError(['log:', '  level: info', 'tls:', '  certFile: /etc/dbgrelay/server.pem']);
    expect(message).toContain(`tls.keyFile: required when tls.certFile is set (under ${file}:3)`);
    expect(message).not.toContain('tls.keyFile: required when tls.certFile is set (from');
    const flow = fileError(['targets:', '  w: { url: "tcp://127.0.0.1:1", labels: [a] }']);
    expect(flow.message).toMatch(new RegExp(`targets\\.w\\.labels: [^;]*\\(from ${flow.file}:2\\)`));
  });

  it('name a list or mapping given where a plain value was expected by its kind', () => {
    const { message } = fileError(['listeners:', '  wss:', '    host: [a, b]']);
    expect(message).toMatch(/listeners\.wss\.host: expected a string, given a list \(from .*:3\)/);
  });

  it('cut a long value and replace control characters', () => {
    const { message } = fileError(['listeners:', '  wss:', `    enabled: "${'x'.repeat(100)}\\u001b[2J"`]);
    expect(message).toContain(`listeners.wss.enabled: expected true or false, given "${'x'.repeat(38)}…`);
    expect(message).not.toContain('x'.repeat(40));
    expect(message).not.toContain('\u001b');
  });

  it('never quote the value of a secret-like key or a URL with a credential', () => {
    const { message } = fileError(['auth:', '  secretFile: 12345678', 'metrics:', '  bearerTokenFile: 98765432']);
    expect(message).toContain('auth.secretFile: expected a string, given a number (not shown)');
    expect(message).toContain('metrics.bearerTokenFile: expected a string, given a number (not shown)');
    expect(message).not.toMatch(/12345678|98765432/);
    const url = fileError(['targets:', '  w: { url: "tcps://user:hunter2@127.0.0.1:1" }']).message;
    expect(url).toMatch(/targets\.w\.url: expected no password/);
    expect(url).not.toContain('hunter2');
  });

  it('name the line of a YAML syntax error and of a secret written in the file', () => {
    const syntax = fileError(['listeners:', '  wss:', '    port: [1,', '']);
    expect(syntax.message).toMatch(new RegExp(`^config file ${syntax.file}:\\d+: `));
    const secret = fileError(['log:', '  level: info', 'auth:', '  secret: hunter2-long-secret']);
    expect(secret.message).toContain(`auth.secret: not accepted in the config file ${secret.file}:4`);
    expect(secret.message).not.toContain('hunter2');
  });

  it('say where an environment value came from rather than the file', () => {
    const file = configFile(['listeners:', '  wss:', '    port: 8443']);
    const message = configErrorOf(() => loadConfig({ env: { ...configTestEnv, DBGRELAY_WSS_PORT: '99999' }, flags: { config: file } }));
    expect(message).toContain('listeners.wss.port: expected integer between 0 and 65535, given 99999 (from DBGRELAY_WSS_PORT)');
  });
});
