import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerAttachCommand } from '../../../src/cli/attachCommand.js';
import { maxJsonDepth } from '../../../src/common/jsonDepth.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { DapFramer } from '../../../src/dap/dapFramer.js';
import { defaultMaxDapMessageBytes, maxMaxDapMessageBytes, minMaxDapMessageBytes } from '../../../src/protocol/dapMessageBound.js';
import { configErrorOf, configTestEnv } from '../../support/harness/configTestKit.js';

/** The values the agent's tests check too (agent-py/tests/test_dap_bounds.py). */
const vectors = JSON.parse(readFileSync(new URL('../../fixtures/dapBoundVectors.json', import.meta.url), 'utf8')) as {
  maxMessageBytes: number;
  maxJsonDepth: number;
};

describe('the DAP message bound shared by relay, client and agent', () => {
  it('equals the shared vector (16 MiB), as does the JSON depth bound', () => {
    expect(defaultMaxDapMessageBytes).toBe(vectors.maxMessageBytes);
    expect(defaultMaxDapMessageBytes).toBe(16 * 1024 * 1024);
    expect(maxJsonDepth).toBe(vectors.maxJsonDepth);
  });

  it('is the default of dap.maxMessageBytes, which takes 1 KiB to 1 GiB and names itself when refused', () => {
    expect(loadConfig({ env: configTestEnv }).dap.maxMessageBytes).toBe(defaultMaxDapMessageBytes);
    expect(loadConfig({ env: { ...configTestEnv, DBGRELAY_DAP_MAX_MESSAGE_BYTES: String(minMaxDapMessageBytes) } }).dap.maxMessageBytes).toBe(1024);
    expect(loadConfig({ env: configTestEnv, overrides: { dap: { maxMessageBytes: maxMaxDapMessageBytes } } }).dap.maxMessageBytes).toBe(2 ** 30);
    expect(configErrorOf(() => loadConfig({ env: configTestEnv, overrides: { dap: { maxMessageBytes: 1023 } } }))).toContain('dap.maxMessageBytes');
    expect(configErrorOf(() => loadConfig({ env: configTestEnv, overrides: { dap: { maxMessageBytes: 2 ** 30 + 1 } } }))).toContain('dap.maxMessageBytes');
  });

  it('lets a framer wait for a body at the bound and refuses one byte more', () => {
    expect(new DapFramer(defaultMaxDapMessageBytes).push(Buffer.from(`Content-Length: ${vectors.maxMessageBytes}\r\n\r\n`))).toEqual([]);
    expect(() => new DapFramer(defaultMaxDapMessageBytes).push(Buffer.from(`Content-Length: ${vectors.maxMessageBytes + 1}\r\n\r\n`))).toThrow(
      /MESSAGE_TOO_LARGE|exceeds the bound/,
    );
  });

  it('is the default of dbgrelay attach --max-message-bytes, which takes the range of dap.maxMessageBytes', () => {
    const program = new Command();
    registerAttachCommand(program);
    const option = program.commands.find((c) => c.name() === 'attach')!.options.find((o) => o.long === '--max-message-bytes')!;
    expect(option.defaultValue).toBe(defaultMaxDapMessageBytes);
    const parse = (value: string): unknown => option.parseArg!(value, undefined);
    expect(parse('1024')).toBe(minMaxDapMessageBytes);
    expect(parse(String(maxMaxDapMessageBytes))).toBe(maxMaxDapMessageBytes);
    for (const bad of ['1023', String(maxMaxDapMessageBytes + 1), '16MiB', '-1', '']) expect(() => parse(bad)).toThrow(/expected bytes from 1024/);
  });
});
