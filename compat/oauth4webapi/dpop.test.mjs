// Drives Latch's OAuth 2.0 endpoints with DPoP (RFC 9449) through
// oauth4webapi, an independent client library, unmodified: discovery, a
// DPoP-bound password grant, refresh_token grants with the same key, and
// the server-nonce dance (use_dpop_nonce, then a retry) the way
// oauth4webapi expects to perform it.
//
// Run by compat/oauth4webapi_test.go, which starts two Latch servers with
// one kickstart each and sets the environment:
//
//   LATCH_URL              base URL (and issuer) of a Latch without nonces
//   LATCH_NONCE_URL        base URL (and issuer) of a Latch started with
//                          --dpop-nonces
//   LATCH_CLIENT_ID        an application with the password and
//                          refresh_token grants and generateRefreshTokens
//   LATCH_CLIENT_SECRET    its client secret
//   LATCH_LOGIN_ID, LATCH_PASSWORD
//                          a user registered for it
//
// Latch listens on plain http on loopback in the test, so every call
// passes allowInsecureRequests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

const insecure = { [oauth.allowInsecureRequests]: true };
const client = { client_id: env('LATCH_CLIENT_ID') };
const clientAuth = oauth.ClientSecretBasic(env('LATCH_CLIENT_SECRET'));
const loginId = env('LATCH_LOGIN_ID');
const password = env('LATCH_PASSWORD');

// discover reads and checks an issuer's metadata.
async function discover(base) {
  const issuer = new URL(base);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  assert.equal(as.issuer, base);
  assert.equal(as.token_endpoint, base + '/oauth2/token');
  assert.ok(Array.isArray(as.dpop_signing_alg_values_supported), 'dpop_signing_alg_values_supported');
  assert.ok(as.dpop_signing_alg_values_supported.includes('ES256'), 'ES256 among dpop_signing_alg_values_supported');
  return as;
}

// claims decodes a JWT's payload without verifying it.
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of an EC public key,
// computed here by hand to check the one oauth4webapi reports.
async function thumbprint(publicKey) {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Buffer.from(digest).toString('base64url');
}

// withNonceRetry runs a request-and-process step, retrying it once when
// the server asks for a DPoP nonce, as oauth4webapi's documentation
// prescribes (the DPoP handle has cached the nonce from the answer). It
// returns the result and how many nonce challenges came first.
async function withNonceRetry(step) {
  try {
    return { result: await step(), challenges: 0 };
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err;
    return { result: await step(), challenges: 1 };
  }
}

// passwordGrant asks for tokens with the password grant and a DPoP proof.
function passwordGrant(as, DPoP) {
  return async () => {
    const res = await oauth.genericTokenEndpointRequest(as, client, clientAuth, 'password',
      { username: loginId, password, scope: 'offline_access' }, { DPoP, ...insecure });
    return oauth.processGenericTokenEndpointResponse(as, client, res);
  };
}

// refreshGrant refreshes with the same DPoP handle.
function refreshGrant(as, DPoP, refreshToken) {
  return async () => {
    const res = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, { DPoP, ...insecure });
    return oauth.processRefreshTokenResponse(as, client, res);
  };
}

// checkBound asserts a DPoP-bound token response for the key.
function checkBound(tokens, jkt, what) {
  assert.equal(tokens.token_type, 'dpop', `${what}: token_type`); // oauth4webapi lower-cases it
  assert.equal(claims(tokens.access_token).cnf?.jkt, jkt, `${what}: cnf.jkt`);
  assert.ok(tokens.refresh_token, `${what}: a refresh token`);
}

test('discovery, a DPoP-bound password grant, and refreshes with the same key', async () => {
  const as = await discover(env('LATCH_URL'));
  const keyPair = await oauth.generateKeyPair('ES256');
  const DPoP = oauth.DPoP(client, keyPair);
  const jkt = await DPoP.calculateThumbprint();
  assert.equal(jkt, await thumbprint(keyPair.publicKey), 'oauth4webapi and RFC 7638 agree on the thumbprint');

  const { result: tokens, challenges } = await withNonceRetry(passwordGrant(as, DPoP));
  assert.equal(challenges, 0, 'no nonce challenge from a Latch without nonces');
  checkBound(tokens, jkt, 'password grant');

  let refreshToken = tokens.refresh_token;
  for (let i = 0; i < 2; i++) {
    const { result: refreshed } = await withNonceRetry(refreshGrant(as, DPoP, refreshToken));
    checkBound(refreshed, jkt, `refresh ${i + 1}`);
    refreshToken = refreshed.refresh_token;
  }

  // Introspection shows the binding.
  const res = await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure);
  const info = await oauth.processIntrospectionResponse(as, client, res);
  assert.equal(info.active, true);
  assert.equal(info.token_type, 'DPoP');
  assert.equal(info.cnf?.jkt, jkt);

  // Another key cannot refresh the bound session: invalid_grant.
  const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  await assert.rejects(refreshGrant(as, thief, refreshToken)(), (err) => {
    assert.ok(err instanceof oauth.ResponseBodyError, `rejected with ${err}`);
    assert.equal(err.error, 'invalid_grant');
    return true;
  });
  // And the session was not revoked by the attempt.
  const { result: after } = await withNonceRetry(refreshGrant(as, DPoP, refreshToken));
  checkBound(after, jkt, 'refresh after the thief');
});

test('server nonces: use_dpop_nonce, then a retry with the nonce', async () => {
  const as = await discover(env('LATCH_NONCE_URL'));
  const keyPair = await oauth.generateKeyPair('ES256');
  const DPoP = oauth.DPoP(client, keyPair);
  const jkt = await DPoP.calculateThumbprint();

  // The first proof carries no nonce: Latch answers use_dpop_nonce with a
  // DPoP-Nonce header; oauth4webapi's handle takes the nonce, and the
  // retry succeeds.
  const { result: tokens, challenges } = await withNonceRetry(passwordGrant(as, DPoP));
  assert.equal(challenges, 1, 'Latch with nonces asks for one first');
  checkBound(tokens, jkt, 'password grant with a nonce');

  // The handle keeps the nonce from the successful answer's DPoP-Nonce:
  // the refresh needs no second challenge.
  const { result: refreshed, challenges: again } = await withNonceRetry(refreshGrant(as, DPoP, tokens.refresh_token));
  assert.equal(again, 0, 'the nonce of the last answer is current');
  checkBound(refreshed, jkt, 'refresh with a nonce');
});
