// Package password hashes new passwords, verifies stored and imported
// password hashes, and decides when a hash should be upgraded on login.
//
// New passwords are always hashed with argon2id using the OWASP baseline
// parameters (m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte key) and stored
// as a PHC string in [Stored.Hash].
//
// Users imported from FusionAuth (POST /api/user/import) keep the hash they
// had there: FusionAuth's encryptionScheme, factor, salt and password fields
// map one to one onto [Stored]. The FusionAuth schemes supported here are
// salted-pbkdf2-hmac-sha256 (FusionAuth's default), bcrypt and salted-sha256;
// each is computed exactly as FusionAuth computes it, so a hash produced by
// FusionAuth verifies here. After a successful login [NeedsRehash] tells the
// caller to replace the stored hash with [Hash] of the plain-text password.
//
// # What FusionAuth computes
//
// Sources: the FusionAuth reference "Password Hashing Algorithms"
// (fusionauth-site, astro/src/content/docs/reference/password-hashes.mdx),
// the Import Users API (astro/src/content/docs/apis/users/import.mdx and
// _import-users-request-body.mdx), and FusionAuth's example encryptors in
// github.com/FusionAuth/fusionauth-example-password-encryptor.
//
// For salted-pbkdf2-hmac-sha256 and salted-sha256 the salt field is a
// standard base64 string (RFC 4648 alphabet with "+" and "/"; padding
// optional, as with Java's Base64.getDecoder()) and it is the decoded bytes
// that enter the hash; the password field is the standard base64 encoding of
// the raw digest. bcrypt differs (see below). In all three the plain-text
// password enters as its UTF-8 bytes.
//
//   - salted-pbkdf2-hmac-sha256: PBKDF2-HMAC-SHA256 (Java's
//     PBKDF2WithHmacSHA256) over the UTF-8 password with salt =
//     base64decode(salt), iterations = factor, 256-bit (32-byte) derived key;
//     password = base64(key). FusionAuth's default factor is 24,000. Java's
//     PBEKeySpec refuses an empty salt, so FusionAuth can never have produced
//     a hash with an empty salt for this scheme; one is refused here too.
//   - salted-sha256: d = UTF8(password) || base64decode(salt), then d =
//     SHA-256(d) repeated factor times (factor is an iteration count, at
//     least 1); password = base64(d). An empty salt is allowed.
//   - bcrypt: factor is the bcrypt cost (log2 of the rounds). FusionAuth
//     splits a modular-crypt hash such as
//     "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy" into
//     factor = 10, salt = the 22 characters after the last "$"
//     ("N9qo8uLOickgx2ZMRZoMye") and password = the remaining 31 characters
//     ("IjZAgcfl7p92ldGxad68LJZdL17lhWy"); both use bcrypt's own base64
//     alphabet "./A-Za-z0-9", not standard base64. The version prefix
//     ($2a$, $2b$, $2y$) is dropped: all three compute the same hash, and
//     only the first 72 bytes of the password count. FusionAuth accepts
//     factors up to 30; this package refuses more than 16 (see below).
//
// # Limits
//
// A stored hash decides how much work a login does, so every parameter read
// from one is bounded before any work starts: argon2id m <= 1 GiB, t <= 10,
// p <= 16 (and m >= 8*p), salt 8 to 64 bytes, key 16 to 128 bytes;
// salted-pbkdf2-hmac-sha256 and salted-sha256 factor 1 to 10,000,000;
// bcrypt cost 4 to 16. Anything else is an error from Verify and
// ValidateImport, never a panic.
package password
