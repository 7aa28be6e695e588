import { describe, expect, it } from 'vitest';
import { createCa, createLeaf } from '../../../src/certs/certificateFactory.js';
import { certificateNamesLines } from '../../../src/cli/certificateNamesLines.js';

const ca = createCa('names test CA');
const certFor = (dnsNames: string[], ipAddresses: string[]): string => createLeaf(ca, 'relay', { server: { dnsNames, ipAddresses } }).certPem;

describe('what dbgrelay serve says about the names its certificate covers', () => {
  it('lists the names, and says when the development certificate was made again', () => {
    const cert = certFor(['localhost'], ['127.0.0.1', '::1']);
    expect(certificateNamesLines({ cert, names: ['localhost', '127.0.0.1', '::1'], source: 'dev', remade: false }, [])).toEqual([
      'dbgrelay: certificate covers localhost, 127.0.0.1, ::1',
    ]);
    expect(certificateNamesLines({ cert, names: ['localhost', '127.0.0.2'], source: 'dev', remade: true }, ['127.0.0.2'])).toEqual([
      'dbgrelay: certificate covers localhost, 127.0.0.2 (made again for the public names, same CA)',
    ]);
  });

  it('warns about a public name a configured tls.certFile does not cover', () => {
    const cert = certFor(['relay.example.com'], []);
    expect(certificateNamesLines({ cert, names: ['relay.example.com'], source: 'files', remade: false }, ['Relay.example.com', '10.0.0.5'])).toEqual([
      'dbgrelay: certificate covers relay.example.com',
      'dbgrelay: warning: tls.certFile does not cover the public name(s) 10.0.0.5; agents and clients dialing them will fail',
    ]);
  });

  it('does not warn for a name a wildcard covers, nor for another spelling of a listed IPv6 address', () => {
    const cert = certFor(['*.example.com'], ['fd00::5']);
    expect(certificateNamesLines({ cert, names: ['*.example.com', 'fd00::5'], source: 'files', remade: false }, ['relay.example.com', 'fd00:0:0:0:0:0:0:5'])).toEqual([
      'dbgrelay: certificate covers *.example.com, fd00::5',
    ]);
    expect(certificateNamesLines({ cert, names: ['*.example.com', 'fd00::5'], source: 'files', remade: false }, ['a.b.example.com'])).toHaveLength(2);
  });
});
