// Package compat holds the compatibility tests that drive Latch with
// client libraries written by others, unmodified: typescript/ is a Node
// project that uses FusionAuth's official @fusionauth/typescript-client,
// run by TestTypeScriptClient; oauth4webapi/ one that uses oauth4webapi,
// an independent OAuth 2.0 client, for discovery and DPoP-bound (RFC 9449)
// token requests with and without server nonces, run by
// TestOAuth4WebAPI. golang_test.go uses two Go libraries from the module
// proxy and needs no Node: TestGoOAuth2 drives the token, revocation and
// introspection endpoints with golang.org/x/oauth2 (the password grant
// with client_secret_basic and client_secret_post, RFC 6749 errors,
// refreshes through a TokenSource with rotated refresh tokens, a revoked
// refresh token), and TestGoOIDC verifies Latch's JWTs with
// github.com/coreos/go-oidc/v3 (discovery, tampered, foreign and expired
// tokens refused, key rotation picked up by its RemoteKeySet).
// goclient_applications_test.go sends applications and roles as
// FusionAuth's Go client marshals them and checks that active is
// ignored, roles survive updates and have their own API, reactivation
// needs no body, the client secret can be read back, and every enum
// Latch writes is spelled as the client spells it.
//
// goclient_policy_test.go sends tenants and applications as FusionAuth's
// Go client marshals them, every field with its zero value, and checks
// that the refresh-token revocation policy is the tenant's, and a new
// tenant's defaults.
//
// goclient_users_test.go sends users, registrations, imports and keys
// shaped as FusionAuth's Go client marshals them (every boolean and
// nested object present, zero values included) and checks FusionAuth's
// field-error codes, hasPrivateKey, the Import API's active, verified and
// plain-text passwords, and ids given in upper case by a kickstart and
// the client.
//
// authcode_test.go drives the authorization code flow through the hosted
// login page, submitted by a browser (loginpagetest: a cookie jar, the
// form read from the page's HTML): TestGoAuthorizationCode with
// golang.org/x/oauth2 and go-oidc (PKCE, a loopback redirect, the nonce,
// a refresh, a code used twice, SSO for a second application), and
// TestOAuth4WebAPIAuthorizationCode runs oauth4webapi/authcode.test.mjs
// (iss, dpop_jkt, the nonce, a code used twice).
//
// TestKickstartFusionAuthFile starts Latch with testdata/kickstart, a
// kickstart in the shape of FusionAuth's own example, bodies as
// FusionAuth's Go client writes them. The package has no code of its own.
package compat
