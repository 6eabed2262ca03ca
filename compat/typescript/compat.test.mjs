// Drives a running Latch with FusionAuth's official TypeScript client
// (@fusionauth/typescript-client, unmodified) and checks what the client
// sees: wasSuccessful(), statusCode, and the parsed response or exception.
//
// Run by compat/typescript_test.go, which starts Latch with a kickstart and
// sets the environment:
//
//   LATCH_URL             base URL of the server
//   LATCH_API_KEY         a super-user API key
//   LATCH_APPLICATION_ID  an application with the password and refresh_token
//                         grants, generateRefreshTokens, a required client
//                         secret, and the OneTimeUse refresh-token policy
//   LATCH_CLIENT_SECRET   that application's client secret
//   LATCH_ROLE            a role defined on that application
//   LATCH_TENANT_ID       the tenant of the application (the default one)
//   LATCH_KICKSTART_LOGIN_ID, LATCH_KICKSTART_PASSWORD (optional)
//                         a user the kickstart created and registered
//
// The tests share state and run in order (node:test runs top-level tests of
// a file one at a time).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FusionAuthClient } from '@fusionauth/typescript-client';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const url = env('LATCH_URL');
const apiKey = env('LATCH_API_KEY');
const applicationId = env('LATCH_APPLICATION_ID');
const clientSecret = env('LATCH_CLIENT_SECRET');
const role = env('LATCH_ROLE');
const tenantId = env('LATCH_TENANT_ID');

const client = new FusionAuthClient(apiKey, url);
// A client constructed with an empty API key: it still sends an (empty)
// Authorization header.
const keyless = new FusionAuthClient('', url);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const suffix = crypto.randomBytes(4).toString('hex');
const password = 'correct horse battery staple ' + suffix;

// Shared state, filled in as the tests go.
const alice = { id: crypto.randomUUID(), email: `Alice.${suffix}@Example.org` };
const bob = { email: `bob.${suffix}@example.org` };
let login = {}; // the first login's response
let jwk; // the JWK that signed login.token

// ok awaits a call that must succeed and returns its ClientResponse.
async function ok(promise, status = 200) {
  let res;
  try {
    res = await promise;
  } catch (err) {
    assert.fail(`the call was rejected: statusCode=${err?.statusCode} exception=${JSON.stringify(err?.exception ?? null)}`
      + (err?.exception instanceof Error ? ` (${err.exception.stack})` : ''));
  }
  assert.equal(res.wasSuccessful(), true);
  assert.equal(res.statusCode, status);
  return res;
}

// fails awaits a call that must be rejected with status and returns the
// rejected ClientResponse.
async function fails(promise, status) {
  let res;
  try {
    res = await promise;
  } catch (err) {
    assert.equal(typeof err?.wasSuccessful, 'function', `rejected with something other than a ClientResponse: ${err}`);
    assert.equal(err.wasSuccessful(), false);
    assert.equal(err.statusCode, status, `statusCode (exception ${JSON.stringify(err.exception ?? null)})`);
    assert.ok(!(err.exception instanceof Error), `the client failed to read the answer: ${err.exception}`);
    return err;
  }
  assert.fail(`expected a rejection with ${status}, got ${res.statusCode} ${JSON.stringify(res.response ?? null)}`);
}

// empty asserts an empty 2xx: the client resolved and parsed no body.
function empty(res) {
  assert.equal(res.response, undefined, 'an empty 200 must not carry a parsed body');
}

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function decodeJWT(compact) {
  const parts = compact.split('.');
  assert.equal(parts.length, 3, 'a compact JWS has three parts');
  return { header: decodePart(parts[0]), payload: decodePart(parts[1]) };
}

// verifyJWS checks an ES256 compact JWS against a JWK with node's crypto:
// no JOSE library, so the JWKS is proved usable by a non-Go verifier.
function verifyJWS(compact, key) {
  const [h, p, s] = compact.split('.');
  const pub = crypto.createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y }, format: 'jwk' });
  return crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
}

async function refreshFails(refreshToken) {
  const res = await fails(client.exchangeRefreshTokenForJWT({ refreshToken }), 400);
  assert.ok(res.exception?.fieldErrors?.refreshToken?.length > 0, `fieldErrors.refreshToken in ${JSON.stringify(res.exception)}`);
}

async function loginAlice(extra = {}) {
  const res = await ok(client.login({ loginId: alice.email, password, applicationId, ...extra }));
  assert.ok(res.response.refreshToken, 'a refresh token');
  assert.match(res.response.refreshTokenId, UUID);
  return res.response;
}

test('createUser with an id', async () => {
  const res = await ok(client.createUser(alice.id, {
    user: { email: alice.email, password, firstName: 'Alice', data: { plan: 'gold' } },
    skipVerification: true,
  }));
  const u = res.response.user;
  assert.equal(u.id, alice.id);
  assert.equal(u.email, alice.email.toLowerCase(), 'emails are stored lower-cased');
  alice.email = u.email;
  assert.equal(u.tenantId, tenantId);
  assert.equal(u.firstName, 'Alice');
  assert.deepEqual(u.data, { plan: 'gold' });
  assert.equal(u.active, true);
  assert.equal(u.password, undefined, 'never the password');
  assert.equal(u.salt, undefined);
  assert.equal(Number.isInteger(u.insertInstant), true, 'instants are integer milliseconds');
});

test('createUser: a duplicate email is a 400 with fieldErrors', async () => {
  const res = await fails(client.createUser(null, { user: { email: alice.email, password } }), 400);
  assert.ok(res.exception?.fieldErrors?.['user.email']?.length > 0, JSON.stringify(res.exception));
  assert.match(res.exception.fieldErrors['user.email'][0].code, /^\[duplicate\]/);
});

test('register an existing user', async () => {
  const res = await ok(client.register(alice.id, {
    registration: { applicationId, roles: [role] },
    skipRegistrationVerification: true,
  }));
  const reg = res.response.registration;
  assert.equal(reg.applicationId, applicationId);
  assert.deepEqual(reg.roles, [role]);
  assert.match(reg.id, UUID);
});

test('register: create and register at once', async () => {
  const res = await ok(client.register(null, {
    user: { email: bob.email, password },
    registration: { applicationId },
    skipVerification: true,
    skipRegistrationVerification: true,
  }));
  assert.match(res.response.user.id, UUID);
  assert.equal(res.response.user.email, bob.email);
  assert.equal(res.response.registration.applicationId, applicationId);
  bob.id = res.response.user.id;
});

test('retrieveUser', async () => {
  const res = await ok(client.retrieveUser(alice.id));
  const u = res.response.user;
  assert.equal(u.id, alice.id);
  assert.equal(u.email, alice.email);
  const reg = (u.registrations ?? []).find(r => r.applicationId === applicationId);
  assert.ok(reg, 'the registration is listed on the user');
  assert.deepEqual(reg.roles, [role]);

  const missing = await fails(client.retrieveUser(crypto.randomUUID()), 404);
  assert.equal(missing.exception, undefined, 'a 404 has an empty body');
});

test('login: 200 with token and refresh token', async () => {
  const res = await ok(client.login({
    loginId: alice.email, password, applicationId,
    metaData: { device: { name: 'compat test', type: 'OTHER', description: 'node ' + process.version } },
  }));
  login = res.response;
  assert.ok(login.token, 'a token');
  assert.ok(login.refreshToken, 'a refresh token');
  assert.match(login.refreshTokenId, UUID);
  assert.equal(Number.isInteger(login.tokenExpirationInstant), true);
  assert.ok(login.tokenExpirationInstant > Date.now(), 'tokenExpirationInstant is in the future, in milliseconds');
  assert.equal(login.user.id, alice.id);

  const { header, payload } = decodeJWT(login.token);
  assert.equal(header.alg, 'ES256');
  assert.equal(header.typ, 'at+jwt', 'an access token (RFC 9068), never to be taken for an ID token');
  assert.ok(header.kid, 'a kid');
  assert.equal(payload.sub, alice.id);
  assert.equal(payload.aud, applicationId);
  assert.equal(payload.applicationId, applicationId);
  assert.deepEqual(payload.roles, [role]);
  assert.equal(payload.sid, login.refreshTokenId, 'sid is the refresh token id');
  assert.equal(payload.email, alice.email);
  assert.equal(payload.authenticationType, 'PASSWORD');
  assert.equal(payload.tid, tenantId);
  assert.equal(Number.isInteger(payload.exp) && Number.isInteger(payload.iat), true);
  assert.ok(payload.exp > payload.iat && payload.exp < Date.now() / 1000 + 86400, 'exp and iat are in seconds');
  assert.equal(payload.exp * 1000, login.tokenExpirationInstant);
});

test('login: wrong password and unknown user are both 404 with no body', async () => {
  const wrong = await fails(client.login({ loginId: alice.email, password: 'not the password', applicationId }), 404);
  assert.equal(wrong.exception, undefined);
  const unknown = await fails(client.login({ loginId: `nobody.${suffix}@example.org`, password, applicationId }), 404);
  assert.equal(unknown.exception, undefined);
});

test('login: an empty API key is no API key (401)', async () => {
  const res = await fails(keyless.login({ loginId: alice.email, password, applicationId }), 401);
  assert.equal(res.exception, undefined);
});

test('login: noJWT', async () => {
  const res = await ok(client.login({ loginId: alice.email, password, applicationId, noJWT: true }));
  assert.equal(res.response.user.id, alice.id);
  assert.equal(res.response.token, undefined);
  assert.equal(res.response.refreshToken, undefined);
});

test('login: a user the kickstart created', async (t) => {
  const loginId = process.env.LATCH_KICKSTART_LOGIN_ID;
  if (!loginId) {
    t.skip('LATCH_KICKSTART_LOGIN_ID is not set');
    return;
  }
  const res = await ok(client.login({ loginId, password: env('LATCH_KICKSTART_PASSWORD'), applicationId }));
  assert.ok(res.response.token);
  assert.equal(decodeJWT(res.response.token).payload.applicationId, applicationId);
});

test('a client pinned to the tenant sends X-FusionAuth-TenantId on every call', async () => {
  const pinned = new FusionAuthClient(apiKey, url, tenantId);
  const s = await ok(pinned.login({ loginId: alice.email, password, applicationId }));
  await ok(pinned.validateJWT(s.response.token));
  await ok(pinned.retrieveJsonWebKeySet());
  await ok(pinned.retrieveOpenIdConfiguration());
  await ok(pinned.retrieveUser(alice.id));
  const r = await ok(pinned.exchangeRefreshTokenForJWT({ refreshToken: s.response.refreshToken }));
  const list = await ok(pinned.retrieveRefreshTokens(alice.id));
  assert.ok(list.response.refreshTokens.some(rt => rt.id === s.response.refreshTokenId));
  empty(await ok(pinned.logout(false, r.response.refreshToken)));
  await refreshFails(r.response.refreshToken);

  const o = await ok(pinned.exchangeUserCredentialsForAccessToken(alice.email, password, applicationId, clientSecret, 'offline_access', undefined));
  const o2 = await ok(pinned.exchangeRefreshTokenForAccessToken(o.response.refresh_token, applicationId, clientSecret, undefined, undefined));
  assert.equal((await ok(pinned.introspectAccessToken(applicationId, o2.response.access_token))).response.active, true);
  empty(await ok(pinned.revokeRefreshTokenById(o.response.refresh_token_id)));
});

test('retrieveJsonWebKeySet, and the login token verifies against it with node crypto', async () => {
  const res = await ok(client.retrieveJsonWebKeySet());
  const keys = res.response.keys;
  assert.ok(Array.isArray(keys) && keys.length > 0, 'at least one key');
  for (const k of keys) {
    assert.ok(k.kid, 'every JWK has a kid');
    assert.equal(k.d, undefined, 'never private material');
    assert.notEqual(k.kty, 'oct', 'never a symmetric key');
  }
  const { header } = decodeJWT(login.token);
  jwk = keys.find(k => k.kid === header.kid);
  assert.ok(jwk, `the JWKS has the token's kid ${header.kid}`);
  assert.equal(jwk.kty, 'EC');
  assert.equal(jwk.crv, 'P-256');
  assert.equal(verifyJWS(login.token, jwk), true, 'the signature verifies');

  const [h, p, s] = login.token.split('.');
  const claims = decodePart(p);
  claims.sub = crypto.randomUUID();
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  assert.equal(verifyJWS(forged, jwk), false, 'a changed payload does not verify');
});

test('retrieveOpenIdConfiguration', async () => {
  const res = await ok(client.retrieveOpenIdConfiguration());
  const c = res.response;
  const { payload } = decodeJWT(login.token);
  assert.equal(c.issuer, payload.iss, 'the issuer is the tokens\' iss');
  assert.match(c.jwks_uri, /\/\.well-known\/jwks\.json$/);
  assert.match(c.token_endpoint, /\/oauth2\/token$/);
  assert.ok(c.grant_types_supported.includes('password'));
  assert.ok(c.grant_types_supported.includes('refresh_token'));
  assert.ok(c.id_token_signing_alg_values_supported.includes('ES256'));
});

test('retrieveJWTPublicKey and retrieveJWTPublicKeys', async () => {
  const { header } = decodeJWT(login.token);
  const one = await ok(client.retrieveJWTPublicKey(header.kid));
  const pem = one.response.publicKey;
  assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n/);
  const exported = crypto.createPublicKey(pem).export({ format: 'jwk' });
  assert.deepEqual({ x: exported.x, y: exported.y, crv: exported.crv }, { x: jwk.x, y: jwk.y, crv: jwk.crv },
    'the PEM is the JWKS key');

  const all = await ok(client.retrieveJWTPublicKeys());
  assert.equal(all.response.publicKeys[header.kid], pem);

  const missing = await fails(client.retrieveJWTPublicKey('no-such-kid'), 404);
  assert.equal(missing.exception, undefined);

  // retrieveJWTPublicKey(undefined) sends ?kid=undefined: read as no kid.
  const undef = await ok(client.retrieveJWTPublicKey(undefined));
  assert.equal(undef.response.publicKeys[header.kid], pem);
});

test('validateJWT', async () => {
  const res = await ok(client.validateJWT(login.token));
  const jwt = res.response.jwt;
  assert.equal(jwt.sub, alice.id);
  assert.equal(jwt.applicationId, applicationId);
  assert.equal(jwt.sid, login.refreshTokenId);
  assert.equal(jwt.exp, decodeJWT(login.token).payload.exp, 'exp echoed in seconds');

  const bad = await fails(client.validateJWT('not.a.jwt'), 401);
  assert.equal(bad.exception, undefined, 'a 401 has an empty body');
  const [h, p, s] = login.token.split('.');
  const claims = decodePart(p);
  claims.roles = ['admin'];
  await fails(client.validateJWT(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`), 401);
});

test('exchangeRefreshTokenForJWT (OneTimeUse rotates the value, keeps the id)', async () => {
  const res = await ok(client.exchangeRefreshTokenForJWT({ refreshToken: login.refreshToken, token: login.token }));
  const r = res.response;
  assert.ok(r.token);
  assert.notEqual(r.token, login.token);
  assert.ok(r.refreshToken);
  assert.notEqual(r.refreshToken, login.refreshToken, 'a new value under OneTimeUse');
  assert.equal(r.refreshTokenId, login.refreshTokenId, 'the same id');
  const { payload } = decodeJWT(r.token);
  assert.equal(payload.sub, alice.id);
  assert.equal(payload.sid, login.refreshTokenId);
  assert.equal(payload.authenticationType, 'REFRESH_TOKEN');
  assert.equal(verifyJWS(r.token, jwk), true);

  await refreshFails(login.refreshToken); // the old value is dead
  await refreshFails('no-such-refresh-token');
  login = { ...login, token: r.token, refreshToken: r.refreshToken };
});

test('retrieveRefreshTokens and retrieveRefreshTokenById', async () => {
  const list = await ok(client.retrieveRefreshTokens(alice.id));
  const mine = list.response.refreshTokens.find(rt => rt.id === login.refreshTokenId);
  assert.ok(mine, 'the session is listed');
  assert.equal(mine.userId, alice.id);
  assert.equal(mine.applicationId, applicationId);
  assert.equal(Number.isInteger(mine.insertInstant) && Number.isInteger(mine.startInstant), true);
  assert.equal(mine.metaData.device.name, 'compat test');

  const one = await ok(client.retrieveRefreshTokenById(login.refreshTokenId));
  assert.equal(one.response.refreshToken.id, login.refreshTokenId);
  assert.equal(one.response.refreshToken.userId, alice.id);

  const missing = await fails(client.retrieveRefreshTokenById(crypto.randomUUID()), 404);
  assert.equal(missing.exception, undefined);
});

test('revokeRefreshToken(token, null, null)', async () => {
  // The client sends ?token=…&userId=null&applicationId=null.
  const res = await ok(client.revokeRefreshToken(login.refreshToken, null, null));
  empty(res);
  await fails(client.retrieveRefreshTokenById(login.refreshTokenId), 404);
  await refreshFails(login.refreshToken);
});

test('revokeRefreshTokenById', async () => {
  const s = await loginAlice();
  const res = await ok(client.revokeRefreshTokenById(s.refreshTokenId));
  empty(res);
  await fails(client.retrieveRefreshTokenById(s.refreshTokenId), 404);
  await refreshFails(s.refreshToken);
});

test('revokeRefreshTokensByUserId', async () => {
  const a = await loginAlice();
  const b = await loginAlice();
  const res = await ok(client.revokeRefreshTokensByUserId(alice.id));
  empty(res);
  const list = await ok(client.retrieveRefreshTokens(alice.id));
  const ids = (list.response.refreshTokens ?? []).map(rt => rt.id);
  assert.ok(!ids.includes(a.refreshTokenId) && !ids.includes(b.refreshTokenId), 'revoked sessions are not listed');
  await refreshFails(a.refreshToken);
  await refreshFails(b.refreshToken);
});

test('logout(false, token): text/plain, no body', async () => {
  const keep = await loginAlice();
  const s = await loginAlice();
  const res = await ok(client.logout(false, s.refreshToken));
  empty(res);
  await refreshFails(s.refreshToken);
  await ok(client.exchangeRefreshTokenForJWT({ refreshToken: keep.refreshToken }), 200); // other sessions live on

  // logout(false, undefined) sends ?refreshToken=undefined: still 200.
  empty(await ok(client.logout(false, undefined)));
  empty(await ok(client.logout(false, 'no-such-refresh-token')));
});

test('logout(true, token) ends every session of the user', async () => {
  const a = await loginAlice();
  const b = await loginAlice();
  const res = await ok(client.logout(true, a.refreshToken));
  empty(res);
  await refreshFails(a.refreshToken);
  await refreshFails(b.refreshToken);
});

let oauth = {};

test('exchangeUserCredentialsForAccessToken (password grant, offline_access)', async () => {
  const res = await ok(client.exchangeUserCredentialsForAccessToken(alice.email, password, applicationId, clientSecret, 'offline_access', undefined));
  oauth = res.response;
  assert.ok(oauth.access_token);
  assert.equal(oauth.token_type, 'Bearer');
  assert.equal(Number.isInteger(oauth.expires_in) && oauth.expires_in > 0, true);
  assert.equal(oauth.userId, alice.id);
  assert.ok(oauth.refresh_token, 'offline_access yields a refresh token');
  assert.match(oauth.refresh_token_id, UUID);
  assert.ok((oauth.scope ?? '').split(' ').includes('offline_access'));
  const { payload } = decodeJWT(oauth.access_token);
  assert.equal(payload.sub, alice.id);
  assert.equal(payload.aud, applicationId);
  assert.equal(payload.sid, oauth.refresh_token_id);
  assert.equal(verifyJWS(oauth.access_token, jwk), true);

  const bad = await fails(client.exchangeUserCredentialsForAccessToken(alice.email, 'not the password', applicationId, clientSecret, 'offline_access', undefined), 400);
  assert.equal(bad.exception.error, 'invalid_grant');
  const badClient = await fails(client.exchangeUserCredentialsForAccessToken(alice.email, password, applicationId, 'wrong secret', 'offline_access', undefined), 401);
  assert.equal(badClient.exception.error, 'invalid_client');
});

test('exchangeRefreshTokenForAccessToken (refresh grant)', async () => {
  const res = await ok(client.exchangeRefreshTokenForAccessToken(oauth.refresh_token, applicationId, clientSecret, undefined, undefined));
  const r = res.response;
  assert.ok(r.access_token);
  assert.notEqual(r.access_token, oauth.access_token);
  assert.equal(r.token_type, 'Bearer');
  assert.equal(Number.isInteger(r.expires_in), true);
  assert.equal(r.userId, alice.id);
  assert.ok(r.refresh_token, 'OneTimeUse returns the new value');
  assert.notEqual(r.refresh_token, oauth.refresh_token);
  assert.equal(r.refresh_token_id, oauth.refresh_token_id);
  assert.equal(decodeJWT(r.access_token).payload.authenticationType, 'REFRESH_TOKEN');

  const old = await fails(client.exchangeRefreshTokenForAccessToken(oauth.refresh_token, applicationId, clientSecret, undefined, undefined), 400);
  assert.equal(old.exception.error, 'invalid_grant');
  oauth = { ...oauth, access_token: r.access_token, refresh_token: r.refresh_token };
});

test('openid: an id_token with the password grant, and retrieveUserInfoFromAccessToken', async () => {
  const res = await ok(client.exchangeUserCredentialsForAccessToken(alice.email, password, applicationId, clientSecret, 'openid offline_access', undefined));
  const r = res.response;
  assert.ok(r.id_token, 'the openid scope yields an id_token');
  assert.equal(verifyJWS(r.id_token, jwk), true, 'the id_token verifies against the JWKS');
  const { payload } = decodeJWT(r.id_token);
  assert.equal(payload.sub, alice.id);
  assert.equal(payload.aud, applicationId);
  const hash = crypto.createHash('sha256').update(r.access_token).digest();
  assert.equal(payload.at_hash, hash.subarray(0, 16).toString('base64url'), 'at_hash is the access token\'s');

  const info = (await ok(client.retrieveUserInfoFromAccessToken(r.access_token))).response;
  assert.equal(info.sub, alice.id);
  assert.equal(info.email, alice.email);
  await fails(client.retrieveUserInfoFromAccessToken('not.a.jwt'), 401);
  empty(await ok(client.revokeRefreshTokenById(r.refresh_token_id)));
  await fails(client.retrieveUserInfoFromAccessToken(r.access_token), 401);
});

test('introspectAccessToken(clientId, token)', async () => {
  const res = await ok(client.introspectAccessToken(applicationId, oauth.access_token));
  const r = res.response;
  assert.equal(r.active, true);
  assert.equal(r.sub, alice.id);
  assert.equal(r.aud, applicationId);
  assert.equal(Number.isInteger(r.exp), true);

  const bad = await ok(client.introspectAccessToken(applicationId, 'not.a.jwt'));
  assert.deepEqual(bad.response, { active: false });
});

test('deleteUser (hardDelete=true)', async () => {
  const res = await ok(client.deleteUser(alice.id));
  empty(res);
  await fails(client.retrieveUser(alice.id), 404);
  await fails(client.login({ loginId: alice.email, password, applicationId }), 404);
  const dead = await fails(client.exchangeRefreshTokenForAccessToken(oauth.refresh_token, applicationId, clientSecret, undefined, undefined), 400);
  assert.equal(dead.exception.error, 'invalid_grant');
  await fails(client.deleteUser(alice.id), 404);

  empty(await ok(client.deleteUser(bob.id)));
  await fails(client.retrieveUser(bob.id), 404);
});

// totp is an authenticator app: RFC 6238 (HMAC-SHA1, 6 digits, 30 s)
// with node's crypto, independent of Latch's Go code, for time step step.
function totp(secretBase32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const sum = crypto.createHmac('sha1', key).update(msg).digest();
  const off = sum[sum.length - 1] & 0x0f;
  return String((sum.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// unusedStep is a time step the server accepts now (the current one, or
// one before or after) that no code was accepted for yet.
function unusedStep(used) {
  const now = Math.floor(Date.now() / 30000);
  for (const s of [now, now + 1, now - 1]) if (!used.has(s)) { used.add(s); return s; }
  throw new Error('no unused step');
}

test('two-factor: secret, enable, login (242), twoFactorLogin, recovery codes, disable', async () => {
  const carol = { email: `carol.${suffix}@example.org` };
  const reg = await ok(client.register(null, {
    user: { email: carol.email, password }, registration: { applicationId },
    skipVerification: true, skipRegistrationVerification: true,
  }));
  carol.id = reg.response.user.id;

  const secret = (await ok(client.generateTwoFactorSecret())).response;
  assert.ok(secret.secret && secret.secretBase32Encoded, 'secret and secretBase32Encoded');
  const used = new Set();
  await fails(client.enableTwoFactor(carol.id, { method: 'authenticator', code: '000000', secretBase32Encoded: secret.secretBase32Encoded }), 421);
  const sms = await fails(client.enableTwoFactor(carol.id, { method: 'sms', mobilePhone: '+15555550100' }), 400);
  assert.ok(sms.exception.fieldErrors.method, `fieldErrors.method in ${JSON.stringify(sms.exception)}`);
  const enabled = (await ok(client.enableTwoFactor(carol.id, {
    method: 'authenticator', code: totp(secret.secretBase32Encoded, unusedStep(used)), secret: secret.secret,
  }))).response;
  assert.equal(enabled.recoveryCodes.length, 10);

  const user = (await ok(client.retrieveUser(carol.id))).response.user;
  assert.equal(user.twoFactor.methods.length, 1);
  const method = user.twoFactor.methods[0];
  assert.equal(method.method, 'authenticator');
  assert.deepEqual(method.authenticator, { algorithm: 'HmacSHA1', codeLength: 6, timeStep: 30 });
  assert.equal(method.secret, undefined, 'no secret in the user');

  const pending = await ok(client.login({ loginId: carol.email, password, applicationId }), 242);
  assert.ok(pending.response.twoFactorId);
  assert.equal(pending.response.token, undefined);
  assert.deepEqual(pending.response.methods.map((m) => m.id), [method.id]);
  await fails(client.twoFactorLogin({ twoFactorId: pending.response.twoFactorId, code: '000000', applicationId }), 421);
  const done = (await ok(client.twoFactorLogin({
    twoFactorId: pending.response.twoFactorId, code: totp(secret.secretBase32Encoded, unusedStep(used)), applicationId,
  }))).response;
  assert.ok(done.token && done.refreshToken, 'token and refresh token');
  assert.equal(done.user.id, carol.id);
  assert.equal(decodeJWT(done.token).payload.sub, carol.id);
  await fails(client.twoFactorLogin({ twoFactorId: pending.response.twoFactorId, code: enabled.recoveryCodes[0], applicationId }), 404);

  // Latch keeps recovery codes hashed: GET answers their count, POST new ones.
  const count = (await ok(client.retrieveTwoFactorRecoveryCodes(carol.id))).response;
  assert.equal(count.recoveryCodes, undefined);
  assert.equal(count.recoveryCodeCount, 10);
  const fresh = (await ok(client.generateTwoFactorRecoveryCodes(carol.id))).response;
  assert.equal(fresh.recoveryCodes.length, 10);
  const again = await ok(client.login({ loginId: carol.email, password, applicationId }), 242);
  await fails(client.twoFactorLogin({ twoFactorId: again.response.twoFactorId, code: enabled.recoveryCodes[1], applicationId }), 421);
  await ok(client.twoFactorLogin({ twoFactorId: again.response.twoFactorId, code: fresh.recoveryCodes[0], applicationId }));

  await fails(client.disableTwoFactor(carol.id, method.id, '000000'), 421);
  empty(await ok(client.disableTwoFactor(carol.id, method.id, totp(secret.secretBase32Encoded, unusedStep(used)))));
  assert.equal((await ok(client.retrieveUser(carol.id))).response.user.twoFactor, undefined);
  await ok(client.login({ loginId: carol.email, password, applicationId }));
  empty(await ok(client.deleteUser(carol.id)));
});
