import { describe, expect, it } from 'vitest';
import { formatDoctorReport } from '../../../src/cli/doctorCommand.js';
import { checkResult } from '../../../src/doctor/doctorCheck.js';

describe('the doctor report as a person reads it', () => {
  it("shows an untrusted relay's certificate fields with control characters replaced, so they cannot rewrite the terminal", () => {
    const chain = [
      { subject: 'CN=relay\u001b[2J', subjectAltName: 'DNS:relay\u0007', issuer: 'CN=evil\u009b31m', validTo: 'Jan 1 00:00:00 2030 GMT\r', fingerprint: 'sha256:ab\n' },
    ];
    const report = formatDoctorReport('wss://relay:7443', 'client', [
      checkResult('tls', 'fail', 'the relay presented a certificate this host does not trust', { code: 'TLS_VERIFY_FAILED', details: { chain } }),
    ]);
    const serverLine = report.split('\n').find((line) => line.includes('server:'));
    expect(serverLine).toBe(`${' '.repeat(20)}server: CN=relay?[2J; names DNS:relay?; issued by CN=evil?31m; until Jan 1 00:00:00 2030 GMT?; sha256:ab?`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must not appear
    expect(report.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
