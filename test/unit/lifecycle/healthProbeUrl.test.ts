import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { healthProbeUrl } from '../../../src/lifecycle/healthProbeUrl.js';

function config(overrides: Record<string, unknown>): ReturnType<typeof loadConfig> {
  return loadConfig({ env: {}, overrides: { dataDir: '/tmp/dbgrelay-probe', ...overrides } });
}

describe('healthProbeUrl', () => {
  it('probes the main listener over https, on the loopback when it listens on every address', () => {
    expect(healthProbeUrl(config({}), '/livez').href).toBe('https://127.0.0.1:7443/livez');
    expect(healthProbeUrl(config({ listeners: { wss: { host: '0.0.0.0', port: 8443 } } }), '/readyz').href).toBe('https://127.0.0.1:8443/readyz');
    expect(healthProbeUrl(config({ listeners: { wss: { host: '::' } } }), '/livez').href).toBe('https://[::1]:7443/livez');
    expect(healthProbeUrl(config({ listeners: { wss: { host: 'fd00::5' } } }), '/livez').href).toBe('https://[fd00::5]:7443/livez');
  });

  it('speaks plain http to a main listener behind a front end, and falls back to the metrics listener', () => {
    expect(healthProbeUrl(config({ listeners: { wss: { tls: false } } }), '/livez').href).toBe('http://127.0.0.1:7443/livez');
    expect(healthProbeUrl(config({ listeners: { wss: { enabled: false } }, metrics: { enabled: true, host: '0.0.0.0' } }), '/livez').href).toBe('http://127.0.0.1:9464/livez');
  });

  it('refuses with CONFIG_INVALID when no listener can be probed', () => {
    const refusal = (overrides: Record<string, unknown>): unknown => {
      try {
        healthProbeUrl(config(overrides), '/livez');
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refusal({ listeners: { wss: { enabled: false } } })).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('no listener answers health probes') });
    expect(refusal({ listeners: { wss: { port: 0 } } })).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('listeners.wss.port: 0') });
  });
});
