// Package api holds the wire types that Latch's server, the guard middleware
// and the client SDK share: FusionAuth-compatible requests and responses, the
// error bodies, the access-token claims and the headers exchanged between an
// app and its backend.
//
// It depends on the standard library only, so that importing guard or client
// pulls in nothing of the server.
package api
