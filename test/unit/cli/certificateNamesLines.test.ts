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
});
