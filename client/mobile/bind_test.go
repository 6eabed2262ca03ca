package mobile_test

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The rules of gomobile bind, which this file checks the package against.
//
// gobind's documentation (golang.org/x/mobile/cmd/gobind, "Type
// restrictions") says: "All exported symbols in the package must have
// types that are supported. Supported types include: signed integer and
// floating point types; string and boolean types; byte slice types; any
// function type all of whose parameters and results have supported types
// [which] must return either no results, one result, or two results
// where the type of the second is the built-in 'error' type; any
// interface type, all of whose exported methods have supported function
// types; any struct type, all of whose exported methods have supported
// function types and all of whose exported fields have supported types."
// gobind's generator (golang.org/x/mobile/bind, Generator.isSupported)
// narrows that further, and skips what it cannot carry without failing,
// only leaving a "// skipped ..." comment in the generated code:
//
//   - basic types: bool, int, int8, int16, int32 (rune), int64, uint8
//     (byte), float32, float64, string; not uint, uint16, uint32, uint64,
//     uintptr, complex64, complex128 nor unsafe.Pointer;
//   - []byte, and no other slice; no array, map or channel;
//   - error;
//   - a pointer to a named struct of the bound package (the struct
//     itself, by value, is not supported);
//   - a named interface of the bound package;
//   - no func value (as a parameter, result or field), no named type of
//     another package (context.Context, time.Duration, http.Header,
//     *http.Response, ...), no named type of the bound package other than
//     a struct or an interface (type Status int), no type parameters.
//
// Exported constants must be of a supported basic type, and exported
// variables of a supported type. Exported interfaces must have exported
// methods only, so that Java, Kotlin and Swift can implement them.

// bindProblems returns what gomobile bind cannot carry among the exported
// names of pkg, each described with its position, sorted.
func bindProblems(fset *token.FileSet, pkg *types.Package) []string {
	var out []string
	report := func(obj types.Object, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s: %s", fset.Position(obj.Pos()), obj.Name(), fmt.Sprintf(format, args...)))
	}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch obj := obj.(type) {
		case *types.Func:
			if why := sigProblem(pkg, obj.Type().(*types.Signature)); why != "" {
				report(obj, "%s", why)
			}
		case *types.Const:
			if b, ok := obj.Type().(*types.Basic); !ok || !supportedBasic(b) {
				report(obj, "constant of unsupported type %s", obj.Type())
			}
		case *types.Var:
			if why := typeProblem(pkg, obj.Type()); why != "" {
				report(obj, "variable: %s", why)
			}
		case *types.TypeName:
			if obj.IsAlias() {
				report(obj, "type alias (gobind binds defined types only)")
				continue
			}
			named := obj.Type().(*types.Named)
			if named.TypeParams().Len() > 0 {
				report(obj, "generic type")
				continue
			}
			switch u := named.Underlying().(type) {
			case *types.Struct:
				for f := range u.Fields() {
					if !f.Exported() {
						continue
					}
					if why := typeProblem(pkg, f.Type()); why != "" {
						report(obj, "field %s: %s", f.Name(), why)
					}
				}
				// The methods of *T include those of T.
				mset := types.NewMethodSet(types.NewPointer(named))
				for sel := range mset.Methods() {
					m := sel.Obj().(*types.Func)
					if !m.Exported() {
						continue
					}
					if why := sigProblem(pkg, m.Type().(*types.Signature)); why != "" {
						report(obj, "method %s: %s", m.Name(), why)
					}
				}
			case *types.Interface:
				for m := range u.Methods() {
					if !m.Exported() {
						report(obj, "unexported method %s: Java, Kotlin and Swift cannot implement the interface", m.Name())
						continue
					}
					if why := sigProblem(pkg, m.Type().(*types.Signature)); why != "" {
						report(obj, "method %s: %s", m.Name(), why)
					}
				}
			default:
				report(obj, "a named %T: only structs (passed by pointer) and interfaces are bound", u)
			}
		default:
			report(obj, "unsupported kind of object %T", obj)
		}
	}
	slices.Sort(out)
	return out
}

// sigProblem says why gomobile cannot carry a function or method of this
// signature, or returns "".
func sigProblem(pkg *types.Package, sig *types.Signature) string {
	if sig.TypeParams().Len() > 0 || sig.RecvTypeParams().Len() > 0 {
		return "generic function"
	}
	for p := range sig.Params().Variables() {
		if why := typeProblem(pkg, p.Type()); why != "" {
			return fmt.Sprintf("parameter %s: %s", p.Name(), why)
		}
	}
	res := sig.Results()
	switch {
	case res.Len() > 2:
		return "more than two results"
	case res.Len() == 2 && !isError(res.At(1).Type()):
		return "two results, the second not error"
	}
	for r := range res.Variables() {
		if why := typeProblem(pkg, r.Type()); why != "" {
			return "result: " + why
		}
	}
	return ""
}

// typeProblem says why gomobile cannot carry a value of type t, or
// returns "".
func typeProblem(pkg *types.Package, t types.Type) string {
	if isError(t) {
		return ""
	}
	switch t := t.(type) {
	case *types.Basic:
		if supportedBasic(t) {
			return ""
		}
		return fmt.Sprintf("basic type %s", t)
	case *types.Slice:
		if b, ok := t.Elem().(*types.Basic); ok && b.Kind() == types.Byte {
			return ""
		}
		return fmt.Sprintf("slice %s (only []byte)", t)
	case *types.Pointer:
		if n, ok := t.Elem().(*types.Named); ok && n.Obj().Pkg() == pkg {
			if _, ok := n.Underlying().(*types.Struct); ok && n.TypeParams().Len() == 0 {
				return ""
			}
		}
		return fmt.Sprintf("pointer %s (only to a struct of the package)", t)
	case *types.Named:
		if _, ok := t.Underlying().(*types.Interface); ok && t.Obj().Pkg() == pkg && t.TypeParams().Len() == 0 {
			return ""
		}
		if _, ok := t.Underlying().(*types.Struct); ok && t.Obj().Pkg() == pkg {
			return fmt.Sprintf("struct %s by value (pass a pointer)", t)
		}
		return fmt.Sprintf("named type %s (only the package's interfaces, and pointers to its structs)", t)
	case *types.Alias:
		return typeProblem(pkg, types.Unalias(t))
	}
	return fmt.Sprintf("type %s", t)
}

func isError(t types.Type) bool { return types.Identical(t, types.Universe.Lookup("error").Type()) }

func supportedBasic(b *types.Basic) bool {
	switch b.Kind() {
	case types.Bool, types.UntypedBool,
		types.Int, types.Int8, types.Int16, types.Int32, types.Int64, types.UntypedInt, types.UntypedRune,
		types.Uint8,
		types.Float32, types.Float64, types.UntypedFloat,
		types.String, types.UntypedString:
		return true
	}
	return false
}

// goList runs the go command's list with args in dir and returns its
// output; it skips the test without a go command.
func goList(t *testing.T, dir string, args ...string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// typeCheck parses the Go files of one package and type-checks them,
// importing every other package from the export data that `go list
// -export` builds for pkgs and their dependencies.
func typeCheck(t *testing.T, fset *token.FileSet, path string, files map[string]string, pkgs ...string) *types.Package {
	t.Helper()
	exports := map[string]string{}
	for line := range strings.Lines(goList(t, ".", append([]string{"-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, pkgs...)...)) {
		path, file, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if ok && file != "" {
			exports[path] = file
		}
	}
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %q", path)
		}
		return os.Open(file)
	})
	var syntax []*ast.File
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := parser.ParseFile(fset, name, files[name], parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		syntax = append(syntax, f)
	}
	conf := types.Config{Importer: imp}
	pkg, err := conf.Check(path, fset, syntax, nil)
	if err != nil {
		t.Fatalf("type-check %s: %v", path, err)
	}
	return pkg
}

// TestBindable checks that every exported name of the package has types
// gomobile bind can carry (see bindProblems), so that gobind skips
// nothing.
func TestBindable(t *testing.T) {
	t.Parallel()
	files := map[string]string{}
	for _, name := range strings.Fields(goList(t, ".", "-f", `{{join .GoFiles " "}}`, ".")) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	if len(files) == 0 {
		t.Fatal("no Go files")
	}
	fset := token.NewFileSet()
	pkg := typeCheck(t, fset, "github.com/latchid/latch/client/mobile", files, ".")
	for _, p := range bindProblems(fset, pkg) {
		t.Errorf("gomobile cannot bind %s", p)
	}
	// The API the documentation and docs/client.md promise.
	for _, name := range []string{"NewSession", "Session", "User", "Response", "LoginRequiredHandler", "StatusOf", "CodeOf", "MessageOf", "IsLoginRequired"} {
		if pkg.Scope().Lookup(name) == nil {
			t.Errorf("%s is missing", name)
		}
	}
}

// TestBindProblems checks the checker: each export that gomobile cannot
// carry is reported, and none of those it can.
func TestBindProblems(t *testing.T) {
	t.Parallel()
	const header = `package fixture

import (
	"context"
	"net/http"
	"time"
)

var _ = context.Background
var _ http.Header
var _ time.Duration

type S struct{}

type I interface{ M(s string) error }

`
	for _, tc := range []struct {
		name, decl string
		bad        bool
	}{
		{"Basics", "func F(a bool, b int, c int8, d int16, e int32, f int64, g byte, h float32, i float64, j string) {}", false},
		{"Bytes", "func F(b []byte) []byte { return b }", false},
		{"PointerToStruct", "func F(s *S) (*S, error) { return s, nil }", false},
		{"Interface", "func F(i I) I { return i }", false},
		{"ErrorOnly", "func F() error { return nil }", false},
		{"StructFieldsAndMethods", "type T struct{ A string; B int64; C []byte; D *S; E I; f func() }\nfunc (T) M() int { return 0 }\nfunc (*T) N(err error) bool { return false }", false},
		{"Constants", "const A, B, C, D = 1, 2.5, \"x\", true", false},
		{"UnexportedIsFree", "func f(ctx context.Context, m map[string]int) {}\ntype t struct{ C chan int }", false},

		{"Context", "func F(ctx context.Context) {}", true},
		{"FuncParam", "func F(f func()) {}", true},
		{"Map", "func F() map[string]string { return nil }", true},
		{"StringSlice", "func F() []string { return nil }", true},
		{"Variadic", "func F(s ...string) {}", true},
		{"Array", "func F(a [4]byte) {}", true},
		{"Chan", "func F(c chan int) {}", true},
		{"Uint", "func F(u uint) {}", true},
		{"Uint64", "func F() uint64 { return 0 }", true},
		{"Complex", "func F(c complex128) {}", true},
		{"Duration", "func F(d time.Duration) {}", true},
		{"HTTPResponse", "func F() (*http.Response, error) { return nil, nil }", true},
		{"StructByValue", "func F() S { return S{} }", true},
		{"PointerToBasic", "func F(p *int) {}", true},
		{"TwoResultsNoError", "func F() (int, string) { return 0, \"\" }", true},
		{"ThreeResults", "func F() (int, string, error) { return 0, \"\", nil }", true},
		{"Generic", "func F[T any](t T) {}", true},
		{"NamedBasic", "type Status int", true},
		{"NamedSliceParam", "type B []byte\nfunc F(b B) {}", true},
		{"FuncField", "type T struct{ OnLogin func() }", true},
		{"MapField", "type T struct{ H http.Header }", true},
		{"BadMethod", "type T struct{}\nfunc (*T) Headers() map[string][]string { return nil }", true},
		{"BadValueMethod", "type T struct{}\nfunc (T) Ctx() context.Context { return nil }", true},
		{"BadInterfaceMethod", "type H interface{ Handle(ctx context.Context) }", true},
		{"UnexportedInterfaceMethod", "type H interface{ Handle(); seal() }", true},
		{"Alias", "type A = S", true},
		{"GenericType", "type G[T any] struct{ V T }", true},
		{"Var", "var V []string", true},
		{"TypedConst", "const D time.Duration = 1", true},
		{"UintConst", "const U uint = 1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fset := token.NewFileSet()
			pkg := typeCheck(t, fset, "example.com/fixture", map[string]string{"fixture.go": header + tc.decl + "\n"}, "context", "net/http", "time")
			got := bindProblems(fset, pkg)
			if tc.bad && len(got) == 0 {
				t.Errorf("%s: no problem reported", tc.decl)
			}
			if !tc.bad && len(got) != 0 {
				t.Errorf("%s: reported %q", tc.decl, got)
			}
		})
	}
}

// TestDeps checks that the package, which an app links, depends on the
// standard library and the client SDK's own packages only: no
// golang.org/x/mobile (a tool dependency, for gobind), nothing of the
// server.
func TestDeps(t *testing.T) {
	t.Parallel()
	allowed := map[string]bool{
		"github.com/latchid/latch/api":           true,
		"github.com/latchid/latch/client":        true,
		"github.com/latchid/latch/client/mobile": true,
		"github.com/latchid/latch/dpop":          true,
		"github.com/latchid/latch/internal/jws":  true,
	}
	for _, p := range strings.Fields(goList(t, ".", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")) {
		if !allowed[p] {
			t.Errorf("client/mobile depends on %s", p)
		}
	}
}
