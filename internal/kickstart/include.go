package kickstart

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"unicode/utf8"
)

// Includes, as FusionAuth's kickstart has them, put the content of a file
// into a string value:
//
//   - "@{name}", all or part of a string: the file's text, JSON-escaped
//     there as any value put into a string is;
//   - "&{name}", the whole string: the file's JSON, which replaces the
//     string (a request's body, or a whole request). The file may use
//     placeholders and includes of its own.
//
// name is a path relative to the kickstart file's folder, which no
// include may leave: not by an absolute path, not by "..", not by a
// symbolic link that leads out. The operator points Latch at a folder;
// what else is on the machine stays out of the database.
const (
	// maxIncludeBytes caps one included file: no request body may be
	// larger (the API's cap is 1 MiB).
	maxIncludeBytes = 1 << 20
	// maxIncludedBytes caps all the includes of one kickstart together,
	// counting each use of a file: a small file used many times cannot
	// fill the memory.
	maxIncludedBytes = 16 << 20
	// maxIncludeDepth caps &{} includes within &{} includes.
	maxIncludeDepth = 8
)

// wholeJSONInclude matches a string that is a JSON include, and no more.
var wholeJSONInclude = regexp.MustCompile(`^&\{([^}]*)\}$`)

// jsonInclude matches a JSON include anywhere in a string.
var jsonInclude = regexp.MustCompile(`&\{[^}]*\}`)

// includer reads the files a kickstart includes from the folder of the
// kickstart file. It is used by one parse at a time.
type includer struct {
	root   *os.Root
	total  int       // bytes included so far
	nested []string  // the &{} includes being read, innermost last
	digest hash.Hash // the kickstart as applied: its file and its includes
}

// read returns the content of the file name, included with the directive
// m ("@{name}" or "&{name}"); the errors name m, never the content.
func (in *includer) read(m, name string) ([]byte, error) {
	if in == nil {
		return nil, fmt.Errorf("%s: includes are read from the folder of a kickstart file, and there is none", m)
	}
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%s: the path must be relative to the kickstart file and stay inside its folder", m)
	}
	// Stat before Open: opening a FIFO would wait for a writer, and hold
	// the start up for ever.
	st, err := in.root.Stat(name)
	if err != nil {
		return nil, openError(m, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", m)
	}
	f, err := in.root.Open(name)
	if err != nil {
		return nil, openError(m, err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", m)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIncludeBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m, err)
	}
	if len(data) > maxIncludeBytes {
		return nil, fmt.Errorf("%s: the file is larger than %d bytes", m, maxIncludeBytes)
	}
	if in.total += len(data); in.total > maxIncludedBytes {
		return nil, fmt.Errorf("%s: the includes add up to more than %d bytes", m, maxIncludedBytes)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: the file is not UTF-8 text", m)
	}
	fmt.Fprintf(in.digest, "\x00%s\x00%d\x00", name, len(data))
	in.digest.Write(data)
	return data, nil
}

// openError explains why the file of the include m cannot be read.
func openError(m string, err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file in the kickstart file's folder", m)
	case errors.As(err, &pe):
		// os.Root refuses a symbolic link that leads out of the folder.
		return fmt.Errorf("%s: cannot be read inside the kickstart file's folder: %v", m, pe.Err)
	}
	return fmt.Errorf("%s: %w", m, err)
}

// includeText is the text of the file of an @{name} include.
func (r resolver) includeText(m string) (string, error) {
	b, err := r.inc.read(m, m[2:len(m)-1])
	return string(b), err
}

// includeJSON is the JSON value of the file of an &{name} include, its
// placeholders and includes replaced as the kickstart file's are.
func (r resolver) includeJSON(name string) ([]byte, error) {
	m := "&{" + name + "}"
	data, err := r.inc.read(m, name)
	if err != nil {
		return nil, err
	}
	clean := filepath.Clean(name)
	if slices.Contains(r.inc.nested, clean) {
		return nil, fmt.Errorf("%s includes itself", m)
	}
	if len(r.inc.nested) >= maxIncludeDepth {
		return nil, fmt.Errorf("%s: includes nest more than %d deep", m, maxIncludeDepth)
	}
	masked, spots := mask(data)
	if err := json.Unmarshal(masked, new(json.RawMessage)); err != nil {
		return nil, fmt.Errorf("%s: the file is not valid JSON: %w", m, syntaxError(err, data, spots))
	}
	r.inc.nested = append(r.inc.nested, clean)
	out, err := r.substitute(data)
	r.inc.nested = r.inc.nested[:len(r.inc.nested)-1]
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m, err)
	}
	out = bytes.TrimSpace(out)
	if !json.Valid(out) { // substitute keeps the structure; this is a guard
		return nil, fmt.Errorf("%s: the file is not valid JSON once its placeholders are replaced", m)
	}
	return out, nil
}
