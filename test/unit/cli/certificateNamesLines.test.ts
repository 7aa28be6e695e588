import { describe, expect, it } from 'vitest';
import { certificateNamesLines } from '../../../src/cli/certificateNamesLines.js';

describe('what dbgrelay serve says about the names its certificate covers', () => {
  it('lists the names, and says when the development certificate was made again', () => {
    expect(certificateNamesLines({ names: ['localhost', '127.0.0.1', '::1'], source: 'dev', remade: false }, [])).toEqual([
      'dbgrelay: certificate covers localhost, 127.0.0.1, ::1',
    ]);
    expect(certificateNamesLines({ names: ['localhost', '127.0.0.2'], source: 'dev', remade: true }, ['127.0.0.2'])).toEqual([
      'dbgrelay: certificate covers localhost, 127.0.0.2 (made again for the public names, same CA)',
    ]);
  });

  it('warns about a public name a configured tls.certFile does not cover', () => {
    expect(certificateNamesLines({ names: ['relay.example.com'], source: 'files', remade: false }, ['Relay.example.com', '10.0.0.5'])).toEqual([
      'dbgrelay: certificate covers relay.example.com',
      'dbgrelay: warning: tls.certFile does not cover the public name(s) 10.0.0.5; agents and clients dialing them will fail',
    ]);
  });

  it('does not warn for a name a wildcard covers, nor for another spelling of a listed IPv6 address; a wildcard covers one label only', () => {
    const tls = { names: ['*.example.com', 'fd00::5'], source: 'files', remade: false } as const;
    expect(certificateNamesLines(tls, ['relay.example.com', 'fd00:0:0:0:0:0:0:5'])).toEqual(['dbgrelay: certificate covers *.example.com, fd00::5']);
    expect(certificateNamesLines(tls, ['a.b.example.com'])[1]).toContain('does not cover the public name(s) a.b.example.com');
  });
});
