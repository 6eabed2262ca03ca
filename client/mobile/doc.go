// Package mobile is the face of the client SDK that an iOS or Android app
// binds with gomobile: a Session wraps a client.Client (package
// github.com/latchid/latch/client) that keeps its tokens and its DPoP
// device key encrypted in a client.FileStore, and exposes it through the
// types gomobile bind can carry across the language boundary. It adds no
// logic of its own: logging in and out, attaching the JWT and a DPoP
// proof to each request, refreshing the JWT, serialising refreshes and
// ending the session on the backend's 401 are the client package's.
//
// Build the bindings with
//
//	gomobile bind -target=android github.com/latchid/latch/client/mobile   # mobile.aar, Java package "mobile"
//	gomobile bind -target=ios github.com/latchid/latch/client/mobile       # Mobile.xcframework, prefix "Mobile"
//
// (golang.org/x/mobile is a tool dependency of this module, so `go tool
// gobind` works without installing anything; gomobile itself needs the
// Android NDK or Xcode.)
//
// gomobile names things thus: the Go package's functions and constants
// are static members of the Java class mobile.Mobile (in Objective-C and
// Swift: MobileNewSession, MobileStatusOf, ...); NewSession is also the
// constructor of Session (Java and Kotlin: Session(...), which throws,
// undeclared; Mobile.newSession(...) declares it); methods and struct
// fields start lower case (user.getEmail(), Kotlin user.email); an error
// result becomes "throws Exception" (Swift: throws) and a Go error
// parameter takes the caught exception; Do is do_ in Java and Kotlin,
// since do is a Java keyword; the interface LoginRequiredHandler is a
// Java interface, and in Swift the protocol
// MobileLoginRequiredHandlerProtocol. From Kotlin:
//
//	val session = Session("https://shop.example.com", filesDir.path + "/latch", false)
//	session.setLoginRequiredHandler(object : LoginRequiredHandler {
//	    override fun loginRequired() { runOnUiThread { showLogin() } }
//	})
//	try {
//	    val user = session.login(email, password)          // off the UI thread
//	    val cart = session.do_("GET", "/api/cart", null, "")
//	    if (cart.status() == 200L) show(user.email, cart.text())
//	} catch (e: Exception) {
//	    if (Mobile.statusOf(e) == 401L) showError(Mobile.messageOf(e)) else showError(e.message)
//	}
//
// and from Swift:
//
//	var err: NSError?
//	guard let session = MobileNewSession("https://shop.example.com", dir, false, &err) else { throw err! }
//	let user = try session.login("ana@example.org", password: password)
//	let cart = try session.do("GET", path: "/api/cart", body: nil, contentType: "")
//	if cart.status() == 200 { show(user.email, cart.text()) }
//
// # What gomobile can carry
//
// gomobile bind exports only functions, methods, struct fields and
// interface methods whose types are signed integers, floats, bool,
// string, []byte, error, pointers to this package's structs, and this
// package's interfaces; anything else (context.Context, func values,
// maps, other slices, http types, time.Duration, unsigned integers) is
// silently skipped. So this package replaces them:
//
//   - Contexts: every call runs under context.Background with the
//     Session's timeout (SetTimeoutMillis, DefaultTimeoutMillis unless
//     set).
//   - The OnLoginRequired func: the LoginRequiredHandler interface, which
//     the app implements in Kotlin, Java or Swift.
//   - The user's roles ([]string): User.RoleCount, User.Role and
//     User.HasRole.
//   - *http.Response: Response, with the status, the body as []byte and
//     the headers through Header.
//   - *client.APIError: errors cross as exceptions (Java) or NSError
//     (Swift, Objective-C) that keep the Go error, so StatusOf, CodeOf,
//     MessageOf and IsLoginRequired, given the caught exception back,
//     read the backend's answer from it.
//
// Every exported name keeps to these types; the package's tests check it
// with go/types against gomobile's rules, and run gobind.
//
// # Threads
//
// A Session is safe for concurrent use. Its methods block on the
// network: call them off the UI thread (a coroutine on Dispatchers.IO, a
// Swift Task). The LoginRequiredHandler is called on the thread of the
// request that found the session over; post to the UI thread from it.
//
// A zero Session, User or Response (Java and Objective-C can make one
// with a no-argument constructor) is safe to use: a zero Session fails
// every call with an error, and the accessors of a zero User or Response
// return zero values. Nothing in this package panics across the language
// boundary, where a panic would end the app.
package mobile
