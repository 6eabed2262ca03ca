// Package browser holds the tests that drive Latch's hosted login page in
// a real browser: headless Chromium (Debian's chromium package, or the
// binary LATCH_CHROMIUM names), through the DevTools protocol with
// chromedp.
//
// The tests start Latch in-process, register an application with a
// loopback redirect URI, and log in as a user would: the client SDK's
// LoginWithBrowser opens the authorization URL in the browser, the test
// focuses the labelled fields of the login form and types into them,
// submits with the keyboard, and the browser follows the redirect to the
// SDK's loopback listener, which exchanges the code. They check that the
// page asks a user with an authenticator for the second factor, that it
// works with JavaScript off, and that a page of another origin cannot
// frame it, and keep a screenshot of the login page as a test artifact
// (go test -artifacts keeps it; its path is logged).
//
// Without Chromium the tests are skipped, except with CI=true, where they
// fail: CI must not go green without having run them.
//
// The package has no non-test code.
package browser
