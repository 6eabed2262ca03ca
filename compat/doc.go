// Package compat holds the compatibility tests that drive Latch with
// client libraries written by others, unmodified: typescript/ is a Node
// project that uses FusionAuth's official @fusionauth/typescript-client,
// run by TestTypeScriptClient; oauth4webapi/ one that uses oauth4webapi,
// an independent OAuth 2.0 client, for discovery and DPoP-bound (RFC 9449)
// token requests with and without server nonces, run by
// TestOAuth4WebAPI. The package has no code of its own.
package compat
