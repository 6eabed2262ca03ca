// Package compat holds the compatibility tests that drive Latch with
// FusionAuth's official client libraries, unmodified: typescript/ is a
// Node project that uses @fusionauth/typescript-client, run by
// TestTypeScriptClient. The package has no code of its own.
package compat
