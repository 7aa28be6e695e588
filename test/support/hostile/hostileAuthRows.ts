import { generateKeyPairSync } from 'node:crypto';
import { b64json, claimsOf, credential, wrongSecret } from './hostileRelay.js';
import { basic, bearer, control, hello, http, RowTable, rowKit, type HostileRow, type RowContext } from './hostileRowKit.js';

/**
 * Rows of the hostile-input table about credentials: the `Authorization` header,
 * bearer tokens (JWT), scopes, roles and attach secrets.
 */
export function authRows(c: RowContext): HostileRow[] {
  const { h, secret, attachWss, upgrade, request, helloLine, token, register, fakeSessionId } = rowKit(c);
  const table = new RowTable();
  table.add('credentials (wss)', [
    { name: 'WebSocket upgrade to /v1/attach/web-1 without credentials: 401 before the upgrade', run: () => attachWss([]), expect: http(401, 'AUTH_REQUIRED') },
    { name: 'WebSocket upgrade to /v1/agent without credentials', run: () => upgrade('/v1/agent'), expect: http(401, 'AUTH_REQUIRED') },
    { name: 'empty Authorization header', run: () => attachWss([['Authorization', '']]), expect: http(401, 'AUTH_REQUIRED') },
    { name: 'Authorization scheme without a credential ("Basic")', run: () => attachWss([['Authorization', 'Basic']]), expect: http(401, 'AUTH_FAILED') },
    { name: 'Basic credential that is not base64', run: () => attachWss([['Authorization', 'Basic %%not~base64%%']]), expect: http(401, 'AUTH_FAILED') },
    { name: 'unsupported scheme (Digest)', run: () => attachWss([['Authorization', 'Digest username="x", response="y"']]), expect: http(401, 'AUTH_FAILED') },
    {
      name: 'two credentials in one Authorization header (the real secret first)',
      run: () => attachWss([['Authorization', `${basic(secret)[0]![1]} Bearer x.y.z`]]),
      expect: http(401, 'AUTH_FAILED'),
    },
    { name: 'two Authorization headers, a wrong one first', run: () => attachWss([...basic(wrongSecret()), ...basic(secret)]), expect: http(401, 'AUTH_FAILED') },
    { name: 'wrong relay secret', run: () => attachWss(basic(wrongSecret())), expect: http(401, 'AUTH_FAILED') },
    { name: 'relay secret with one character missing', run: () => attachWss(basic(credential(secret.slice(0, -1)))), expect: http(401, 'AUTH_FAILED') },
    { name: 'relay secret with a NUL byte appended', run: () => attachWss(basic(credential(`${secret}\u0000`))), expect: http(401, 'AUTH_FAILED') },
    {
      name: 'relay secret in non-standard headers (Cookie, X-Api-Key) is ignored',
      run: () =>
        attachWss([
          ['Cookie', `secret=${secret}`],
          ['X-Api-Key', secret],
        ]),
      expect: http(401, 'AUTH_REQUIRED'),
    },
    { name: 'relay secret in the query string of an upgrade', run: () => upgrade(`/v1/attach/web-1?secret=${secret}`), expect: http(400, 'BAD_REQUEST') },
    {
      name: 'valid token in the query string of /v1/targets (access_token=)',
      run: async () => request({ path: `/v1/targets?access_token=${await token({ scope: 'admin' })}` }),
      expect: http(400, 'BAD_REQUEST'),
    },
    { name: 'relay secret in the URL fragment', run: () => request({ path: `/v1/targets#${secret}` }), expect: http(400, 'BAD_REQUEST') },
    {
      name: 'relay secret in the userinfo of an absolute request target',
      run: () => request({ path: `https://${secret}@localhost/v1/targets` }),
      expect: http(404, 'NOT_FOUND'),
    },
  ]);

  table.add('bearer tokens (JWT)', [
    {
      name: 'alg: none, no signature',
      run: () => attachWss(bearer(credential(`${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claimsOf())}.`))),
      expect: http(401, 'AUTH_FAILED'),
      why: /alg/,
    },
    {
      name: 'alg: none with the signature of a valid token',
      run: async () => {
        const valid = await token();
        return attachWss(bearer(credential(`${b64json({ alg: 'none', kid: 'hostile-k1' })}.${valid.split('.')[1]}.${valid.split('.')[2]}`)));
      },
      expect: http(401, 'AUTH_FAILED'),
    },
    {
      name: 'alg: none in the tcps hello',
      run: () => helloLine({ dbgrelay: 1, op: 'attach', target: 'web-1', token: credential(`${b64json({ alg: 'none' })}.${b64json(claimsOf())}.`) }),
      expect: hello('AUTH_FAILED'),
    },
    {
      name: 'algorithm confusion: HS256 signed with the RSA public key (PEM) while HS256 is allowed',
      run: async () => attachWss(bearer(await token({}, 'HS256', new TextEncoder().encode(h.publicPem)))),
      expect: http(401, 'AUTH_FAILED'),
      why: /alg/,
    },
    {
      name: 'algorithm confusion: HS256 signed with the RSA public key (DER)',
      run: async () => attachWss(bearer(await token({}, 'HS256', new Uint8Array(h.publicKey.export({ type: 'spki', format: 'der' }))))),
      expect: http(401, 'AUTH_FAILED'),
    },
    { name: 'expired token', run: async () => attachWss(bearer(await token({ iatIn: -400, expIn: -120 }))), expect: http(401, 'AUTH_FAILED'), why: /expired/ },
    { name: 'token not yet valid (nbf in 10 minutes)', run: async () => attachWss(bearer(await token({ nbfIn: 600 }))), expect: http(401, 'AUTH_FAILED'), why: /nbf/ },
    { name: 'token issued in the future (iat)', run: async () => attachWss(bearer(await token({ iatIn: 600, expIn: 900 }))), expect: http(401, 'AUTH_FAILED'), why: /iat/ },
    { name: 'wrong audience', run: async () => attachWss(bearer(await token({ aud: 'another-service' }))), expect: http(401, 'AUTH_FAILED'), why: /aud/ },
    { name: 'audience list without ours', run: async () => attachWss(bearer(await token({ aud: ['a', 'b'] }))), expect: http(401, 'AUTH_FAILED'), why: /aud/ },
    { name: 'wrong issuer', run: async () => attachWss(bearer(await token({ iss: 'https://evil.example' }))), expect: http(401, 'AUTH_FAILED'), why: /iss/ },
    { name: 'no exp', run: async () => attachWss(bearer(await token({ expIn: undefined }))), expect: http(401, 'AUTH_FAILED'), why: /exp/ },
    {
      name: 'lifetime over auth.jwt.maxLifetimeS',
      run: async () => attachWss(bearer(await token({ expIn: 2 * 3_600 }))),
      expect: http(401, 'AUTH_FAILED'),
      why: /lifetime/,
    },
    {
      name: 'tampered payload (scope widened after signing)',
      run: async () => {
        const [head, , signature] = (await token({ scope: 'attach:db-1' })).split('.');
        return attachWss(bearer(credential(`${head}.${b64json(claimsOf({ scope: 'attach:* admin' }))}.${signature}`)));
      },
      expect: http(401, 'AUTH_FAILED'),
      why: /signature/,
    },
    {
      name: 'signature stripped',
      run: async () => attachWss(bearer(credential((await token()).split('.').slice(0, 2).join('.') + '.'))),
      expect: http(401, 'AUTH_FAILED'),
    },
    {
      name: 'signed by another RSA key with the relay key id',
      run: async () => attachWss(bearer(await token({}, 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey))),
      expect: http(401, 'AUTH_FAILED'),
      why: /signature/,
    },
    {
      name: "embedded jwk header carrying the attacker's own key",
      run: async () => {
        const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return attachWss(bearer(await token({ header: { jwk: attacker.publicKey.export({ format: 'jwk' }) } }, 'RS256', attacker.privateKey)));
      },
      expect: http(401, 'AUTH_FAILED'),
      why: /signature/,
    },
    {
      name: "jku header pointing at the attacker's key set",
      run: async () =>
        attachWss(bearer(await token({ header: { jku: 'https://attacker.example/jwks.json' } }, 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey))),
      expect: http(401, 'AUTH_FAILED'),
      why: /signature/,
    },
    { name: 'kid with path traversal', run: async () => attachWss(bearer(await token({ kid: '../../../../dev/null' }))), expect: http(401, 'AUTH_FAILED'), why: /unknown kid/ },
    { name: 'unknown kid', run: async () => attachWss(bearer(await token({ kid: 'rotated-away' }))), expect: http(401, 'AUTH_FAILED'), why: /unknown kid/ },
    {
      name: 'oversized token (validly signed, 6 KB)',
      run: async () => attachWss(bearer(await token({ extra: { pad: 'x'.repeat(6_000) } }))),
      expect: http(401, 'AUTH_FAILED'),
      why: /exceeds 4096 bytes/,
    },
    {
      name: 'oversized token in the tcps hello',
      run: async () => helloLine({ dbgrelay: 1, op: 'attach', target: 'web-1', token: await token({ extra: { pad: 'x'.repeat(4_500) } }) }),
      expect: hello('AUTH_FAILED'),
      why: /exceeds 4096 bytes/,
    },
    { name: 'no sub', run: async () => attachWss(bearer(await token({ sub: undefined }))), expect: http(401, 'AUTH_FAILED'), why: /sub/ },
    { name: 'sub with control characters', run: async () => attachWss(bearer(await token({ sub: 'alice\r\nadmin' }))), expect: http(401, 'AUTH_FAILED'), why: /sub/ },
    { name: 'malformed scope (attach: with an empty pattern)', run: async () => attachWss(bearer(await token({ scope: 'attach:' }))), expect: http(401, 'AUTH_FAILED') },
    {
      name: 'JWS JSON serialization instead of the compact form',
      run: async () => {
        const [protectedHeader, payload, signature] = (await token()).split('.');
        return attachWss(bearer(credential(JSON.stringify({ protected: protectedHeader, payload, signature }))));
      },
      expect: http(401, 'AUTH_FAILED'),
    },
  ]);

  table.add('scopes and roles', [
    {
      name: 'client token for another target (attach:web-2) on web-1',
      run: async () => attachWss(bearer(await token({ scope: 'attach:web-2' }))),
      expect: http(401, 'AUTH_FAILED'),
      why: /web-1/,
    },
    { name: 'client token with the wrong scope (attach:db-*)', run: async () => attachWss(bearer(await token({ scope: 'attach:db-*' }))), expect: http(401, 'AUTH_FAILED') },
    { name: 'token with only scopes of other services', run: async () => attachWss(bearer(await token({ scope: 'read:logs openid' }))), expect: http(401, 'AUTH_FAILED') },
    { name: 'admin-only token used to attach', run: async () => attachWss(bearer(await token({ scope: 'admin' }))), expect: http(401, 'AUTH_FAILED') },
    {
      name: 'agent token (register:web-*) used to attach',
      run: async () => attachWss(bearer(await token({ sub: 'agent-web', scope: 'register:web-*' }))),
      expect: http(401, 'AUTH_FAILED'),
      why: /client role/,
    },
    {
      name: 'client token (attach:web-*) used to register over wss',
      run: async () => upgrade('/v1/agent', bearer(await token())),
      expect: http(401, 'AUTH_FAILED'),
      why: /agent role/,
    },
    { name: 'client token used to register over tcps', run: async () => helloLine({ dbgrelay: 1, op: 'agent', token: await token() }), expect: hello('AUTH_FAILED') },
    {
      name: 'agent token used to list targets',
      run: async () => request({ path: '/v1/targets', headers: bearer(await token({ scope: 'register:web-*' })) }),
      expect: http(401, 'AUTH_FAILED'),
    },
    {
      name: 'agent token for web-* registers db-1',
      run: async () => register('wss', { token: await token({ sub: 'agent-web', scope: 'register:web-*' }) }, 'db-1'),
      expect: { ...control('AUTH_FAILED'), detail: 1008 },
    },
    {
      name: 'client token presents an agent data connection',
      run: async () => upgrade(`/v1/agent/sessions/${fakeSessionId}`, bearer(await token())),
      expect: http(401, 'AUTH_FAILED'),
    },
    { name: "web-1's attach secret used for web-2", run: () => attachWss(basic(c.web1AttachSecret), 'web-2'), expect: http(401, 'AUTH_FAILED') },
    { name: "web-1's attach secret used to list targets", run: () => request({ path: '/v1/targets', headers: basic(c.web1AttachSecret) }), expect: http(401, 'AUTH_FAILED') },
    { name: "web-1's attach secret used to register", run: () => upgrade('/v1/agent', basic(c.web1AttachSecret)), expect: http(401, 'AUTH_FAILED') },
    {
      name: "web-1's attach secret on an agent data connection (tcps)",
      run: () => helloLine({ dbgrelay: 1, op: 'agentData', sessionId: fakeSessionId, secret: c.web1AttachSecret }),
      expect: hello('AUTH_FAILED'),
    },
    { name: "web-1's attach secret for WEB-1 (case variant)", run: () => attachWss(basic(c.web1AttachSecret), 'WEB-1'), expect: http(401, 'AUTH_FAILED') },
  ]);

  return table.rows;
}
