import { CommanderError, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { exitStatusByKind, exitStatusFor, exitStatusHelp, failureKindByCode } from '../../../src/cli/exitCodes.js';
import { localErrorCodes, RelayError, wireErrorCodes } from '../../../src/common/relayError.js';

describe('exit status by kind of failure', () => {
  it('maps every error code to a kind, and no code that does not exist', () => {
    const codes = [...wireErrorCodes, ...localErrorCodes];
    expect(Object.keys(failureKindByCode).sort()).toEqual([...codes].sort());
    for (const code of codes) expect(Object.keys(exitStatusByKind), code).toContain(failureKindByCode[code]);
  });

  it('gives each kind its own status, none of them 0 or 1, and lists each in --help', () => {
    const statuses = Object.values(exitStatusByKind);
    expect(new Set(statuses).size).toBe(statuses.length);
    for (const status of statuses) {
      expect(status).toBeGreaterThan(1);
      expect(exitStatusHelp).toMatch(new RegExp(`^  ${status}  `, 'm'));
    }
  });

  it('exits with the status of the kind of a RelayError', () => {
    expect(exitStatusFor(new RelayError('CONFIG_INVALID', 'x'))).toBe(78);
    expect(exitStatusFor(new RelayError('RELAY_UNREACHABLE', 'x'))).toBe(69);
    expect(exitStatusFor(new RelayError('UNKNOWN_TARGET', 'x'))).toBe(69);
    expect(exitStatusFor(new RelayError('TLS_VERIFY_FAILED', 'x'))).toBe(76);
    expect(exitStatusFor(new RelayError('TLS_PIN_MISMATCH', 'x'))).toBe(76);
    expect(exitStatusFor(new RelayError('AUTH_FAILED', 'x'))).toBe(77);
    expect(exitStatusFor(new RelayError('AUTH_REQUIRED', 'x'))).toBe(77);
    expect(exitStatusFor(new RelayError('TARGET_BUSY', 'x'))).toBe(75);
    expect(exitStatusFor(new RelayError('LIMIT_REACHED', 'x'))).toBe(75);
    expect(exitStatusFor(new RelayError('INTERNAL', 'x'))).toBe(70);
    expect(exitStatusFor(new RelayError('BAD_REQUEST', 'x'))).toBe(64);
  });

  it("exits 64 on commander's usage errors, 0 on --help and --version, 70 on anything else", () => {
    expect(exitStatusFor(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--nope'"))).toBe(64);
    expect(exitStatusFor(new CommanderError(1, 'commander.missingArgument', 'error: missing required argument'))).toBe(64);
    expect(exitStatusFor(new InvalidArgumentError('expected a port'))).toBe(64);
    expect(exitStatusFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(exitStatusFor(new CommanderError(0, 'commander.version', '1.0.0'))).toBe(0);
    expect(exitStatusFor(new CommanderError(1, 'commander.help', '(outputHelp)'))).toBe(64);
    expect(exitStatusFor(new Error('boom'))).toBe(70);
    expect(exitStatusFor(undefined)).toBe(70);
  });
});
