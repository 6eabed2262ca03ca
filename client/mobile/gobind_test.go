package mobile_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGobind runs gobind, the generator behind `gomobile bind`, on the
// package (golang.org/x/mobile/cmd/gobind is a tool dependency of the
// module: `go tool gobind`) for Go, Java and Objective-C, which needs
// neither the Android SDK nor Xcode, and checks that it succeeds, skips
// nothing (gobind leaves a "// skipped ..." comment where it cannot
// carry an export, and carries on) and names the classes, methods and
// functions as the package documentation and docs/client.md say.
func TestGobind(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gobind; skipped with -short")
	}
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out := t.TempDir()
	cmd := exec.Command(gobin, "tool", "gobind", "-lang=go,java,objc", "-outdir", out, "github.com/latchid/latch/client/mobile")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gobind: %v\n%s", err, b)
	}

	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatalf("gobind wrote no %s: %v", rel, err)
		}
		return string(b)
	}
	for file, wants := range map[string][]string{
		// Java: the package's functions and constants in class Mobile,
		// NewSession as Session's constructor too.
		"java/mobile/Mobile.java": {
			"public abstract class Mobile",
			"public static native Session newSession(String baseURL, String dir, boolean allowInsecureHTTP) throws Exception;",
			"public static native long statusOf(java.lang.Exception err);",
			"public static native String codeOf(java.lang.Exception err);",
			"public static native String messageOf(java.lang.Exception err);",
			"public static native boolean isLoginRequired(java.lang.Exception err);",
			"public static final long DefaultTimeoutMillis = 30000L;",
		},
		"java/mobile/Session.java": {
			"public final class Session",
			"public Session(String baseURL, String dir, boolean allowInsecureHTTP)",
			"public native User login(String loginID, String password) throws Exception;",
			"public native void logout(boolean global) throws Exception;",
			"public native boolean loggedIn();",
			"public native User user() throws Exception;",
			"public native Response do_(String method, String path, byte[] body, String contentType) throws Exception;",
			"public native void setLoginRequiredHandler(LoginRequiredHandler h);",
			"public native void setTimeoutMillis(long ms);",
		},
		"java/mobile/User.java": {
			"public final native String getID();",
			"public final native String getEmail();",
			"public final native String getUsername();",
			"public native long roleCount();",
			"public native String role(long i);",
			"public native boolean hasRole(String role);",
		},
		"java/mobile/Response.java": {
			"public native long status();",
			"public native byte[] body();",
			"public native String text();",
			"public native String header(String name);",
			"public native void check() throws Exception;",
		},
		"java/mobile/LoginRequiredHandler.java": {
			"public interface LoginRequiredHandler",
			"public void loginRequired();",
		},
		// Objective-C (and so Swift): the prefix Mobile.
		"src/gobind/Mobile.objc.h": {
			"@interface MobileSession : NSObject",
			"@interface MobileUser : NSObject",
			"@interface MobileResponse : NSObject",
			"@protocol MobileLoginRequiredHandler",
			"- (void)loginRequired;",
			"FOUNDATION_EXPORT MobileSession* _Nullable MobileNewSession(NSString* _Nullable baseURL, NSString* _Nullable dir, BOOL allowInsecureHTTP, NSError* _Nullable* _Nullable error);",
			"FOUNDATION_EXPORT long MobileStatusOf(NSError* _Nullable err);",
			"- (MobileUser* _Nullable)login:(NSString* _Nullable)loginID password:(NSString* _Nullable)password error:(NSError* _Nullable* _Nullable)error;",
			"- (MobileResponse* _Nullable)do:(NSString* _Nullable)method path:(NSString* _Nullable)path body:(NSData* _Nullable)body contentType:(NSString* _Nullable)contentType error:(NSError* _Nullable* _Nullable)error;",
			"- (BOOL)logout:(BOOL)global error:(NSError* _Nullable* _Nullable)error;",
			"@property (nonatomic) NSString* _Nonnull id_;",
			"@property (nonatomic) NSString* _Nonnull email;",
			"- (void)setLoginRequiredHandler:(id<MobileLoginRequiredHandler> _Nullable)h;",
		},
		// Go: the glue gomobile compiles into the library.
		"src/gobind/go_mobilemain.go": {
			`"github.com/latchid/latch/client/mobile"`,
			"func proxymobile__NewSession(",
			"func proxymobile_Session_Do(",
		},
	} {
		got := read(file)
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q", file, want)
			}
		}
	}

	// Nothing skipped, in any generated file.
	err = filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for line := range strings.Lines(string(b)) {
			if strings.HasPrefix(strings.TrimSpace(line), "// skipped ") {
				rel, _ := filepath.Rel(out, path)
				t.Errorf("gobind skipped an export, in %s: %s", rel, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
