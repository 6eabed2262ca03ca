// Drives Latch's authorization code flow through oauth4webapi, an
// independent client library, unmodified: discovery, PKCE (S256), the
// hosted login page (fetched and submitted as a browser would: the form
// read from the page, its cookies kept), validateAuthResponse with the
// state and the iss of RFC 9207, the code grant with a DPoP key named by
// dpop_jkt, the ID token's nonce, and a second use of the code refused.
//
// Run by compat/oauth4webapi_test.go, which starts a Latch with the
// authorization code kickstart and sets the environment:
//
//   LATCH_URL            base URL (and issuer)
//   LATCH_CLIENT_ID      a public client of the authorization_code grant
//   LATCH_REDIRECT_URI   its registered loopback redirect URI
//   LATCH_LOGIN_ID, LATCH_PASSWORD
//                        a user registered for it

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
// The app listens on a port of its own; the registered loopback URI has
// none (RFC 8252 §7.3).
const redirectUri = env('LATCH_REDIRECT_URI').replace('127.0.0.1/', '127.0.0.1:49152/');

// browser is a minimal browser: it keeps cookies, sees each redirect, and
// submits the page's first form with what a user types.
function browser() {
  const jar = new Map();
  async function go(url, init = {}) {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (attrs.some((a) => a.trim().toLowerCase() === 'max-age=-1' || a.trim().toLowerCase() === 'max-age=0') || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }
  return {
    get: (url) => go(url),
    async submit(pageUrl, html, typed) {
      const form = html.match(/<form[^>]*>([\s\S]*?)<\/form>/);
      assert.ok(form, 'a form on the page');
      const action = new URL(form[0].match(/action="([^"]*)"/)[1].replaceAll('&amp;', '&'), pageUrl);
      const fields = new URLSearchParams();
      for (const input of form[1].matchAll(/<input\b[^>]*>/g)) {
        const name = input[0].match(/name="([^"]*)"/)?.[1];
        const value = input[0].match(/value="([^"]*)"/)?.[1] ?? '';
        if (name) fields.set(name, decode(value));
      }
      for (const [k, v] of Object.entries(typed)) fields.set(k, v);
      return go(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() });
    },
  };
}

// decode undoes html/template's escaping of an attribute value.
function decode(s) {
  return s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

test('authorization code with PKCE, the login page, iss, dpop_jkt and a nonce', async () => {
  const issuer = new URL(env('LATCH_URL'));
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  assert.equal(as.authorization_endpoint, env('LATCH_URL') + '/oauth2/authorize');
  assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
  assert.equal(as.authorization_response_iss_parameter_supported, true);

  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const keyPair = await oauth.generateKeyPair('ES256');
  const DPoP = oauth.DPoP(client, keyPair);
  const jkt = await DPoP.calculateThumbprint();

  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', scope: 'openid offline_access',
    state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', dpop_jkt: jkt,
  }).toString();

  const b = browser();
  const page = await b.get(url);
  assert.equal(page.status, 200, 'the login page');
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  const answer = await b.submit(url, await page.text(), { loginId: env('LATCH_LOGIN_ID'), password: env('LATCH_PASSWORD') });
  assert.equal(answer.status, 303, 'the login redirects');
  const callback = new URL(answer.headers.get('location'));
  assert.equal(callback.origin + callback.pathname, redirectUri);

  // oauth4webapi checks the state and, as discovery says so, iss.
  const params = oauth.validateAuthResponse(as, client, callback, state);

  // A proof made with another key than dpop_jkt's is refused.
  const other = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
  const wrongKey = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, { DPoP: other, ...insecure });
  await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, wrongKey, { expectedNonce: nonce }), (err) => {
    assert.ok(err instanceof oauth.ResponseBodyError, `rejected with ${err}`);
    assert.equal(err.error, 'invalid_grant');
    return true;
  });

  // That try spent the code: the flow again, on the SSO session this time
  // (no page), and the right key.
  const again = await b.get(url);
  assert.equal(again.status, 302, 'the SSO session answers at once');
  const params2 = oauth.validateAuthResponse(as, client, new URL(again.headers.get('location')), state);
  const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params2, redirectUri, verifier, { DPoP, ...insecure });
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: nonce, requireIdToken: true });
  assert.equal(tokens.token_type, 'dpop');
  assert.equal(claims(tokens.access_token).cnf?.jkt, jkt);
  assert.ok(tokens.refresh_token, 'a refresh token for offline_access');
  const id = oauth.getValidatedIdTokenClaims(tokens);
  assert.equal(id.nonce, nonce);
  assert.ok(id.auth_time, 'auth_time');

  // The same code again: invalid_grant.
  const reuse = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params2, redirectUri, verifier, { DPoP, ...insecure });
  await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, reuse, { expectedNonce: nonce }), (err) => {
    assert.ok(err instanceof oauth.ResponseBodyError, `rejected with ${err}`);
    assert.equal(err.error, 'invalid_grant');
    return true;
  });
});

test('a tampered iss or state is caught by the client', async () => {
  const issuer = new URL(env('LATCH_URL'));
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', state,
    code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256',
  }).toString();
  const b = browser();
  const page = await b.get(url);
  const answer = await b.submit(url, await page.text(), { loginId: env('LATCH_LOGIN_ID'), password: env('LATCH_PASSWORD') });
  const callback = new URL(answer.headers.get('location'));
  assert.equal(callback.searchParams.get('iss'), env('LATCH_URL'));
  const mixedUp = new URL(callback);
  mixedUp.searchParams.set('iss', 'https://attacker.example');
  assert.throws(() => oauth.validateAuthResponse(as, client, mixedUp, state));
  assert.throws(() => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState()));
  assert.ok(oauth.validateAuthResponse(as, client, callback, state).get('code'));
});
