package main

// The documents are part of the contract: these tests fail when a
// documented flag does not exist (or a flag is undocumented), when a
// server.Options field is not named in OPERATIONS.md, when a
// relative link in the README or a document beside the code is broken,
// and when a program in the README does not compile.
//
// Bad inputs tried by hand: a row removed from OPERATIONS.md's flags
// table (TestFlagsDocumented names the flag as undocumented), a row for
// a flag that does not exist (`-no-such-flag`: named as not registered),
// an env name that the binary does not read, a link to a file that does
// not exist and to a heading that does not exist (TestDocLinks names
// the document, the link and what is missing), a README program calling
// a method that does not exist (TestReadmeExamplesCompile prints the
// compiler's error).

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/server"
)

// repoRoot is the repository's top directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// registeredFlags returns the names of the flags parseConfig registers,
// read from the usage it prints for -h.
func registeredFlags(t *testing.T) []string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w // flag.FlagSet prints its usage to os.Stderr by default
	out := make(chan []byte)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(r)
		out <- b.Bytes()
	}()
	_, perr := parseConfig([]string{"-h"}, func(string) string { return "" })
	os.Stderr = stderr
	w.Close()
	usage := <-out
	r.Close()
	if perr == nil {
		t.Fatal("parseConfig(-h) returned no error: did it print its usage?")
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([A-Za-z0-9][A-Za-z0-9-]*)`).FindAllSubmatch(usage, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) < 20 {
		t.Fatalf("found only %d flags in the usage of -h:\n%s", len(names), usage)
	}
	return names
}

// documentedFlags returns the flags named in the first column of the
// tables of server/OPERATIONS.md, with the env variables named beside
// them (the second column of the main table).
func documentedFlags(t *testing.T) (flags map[string]bool, envs []string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot(), "server", "OPERATIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	flags = make(map[string]bool)
	code := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `-") {
			continue
		}
		cells := strings.Split(line, "|")
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			if name, ok := strings.CutPrefix(m[1], "-"); ok && regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(name) {
				flags[name] = true
			}
		}
		if len(cells) > 2 {
			for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
				if regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`).MatchString(m[1]) {
					envs = append(envs, m[1])
				}
			}
		}
	}
	if len(flags) < 20 {
		t.Fatalf("found only %d flags in server/OPERATIONS.md's tables", len(flags))
	}
	return flags, envs
}

// TestFlagsDocumented checks OPERATIONS.md's flag tables against the
// binary both ways, and that every environment variable they name is one
// the binary reads.
func TestFlagsDocumented(t *testing.T) {
	registered := registeredFlags(t)
	documented, envs := documentedFlags(t)
	have := make(map[string]bool)
	for _, name := range registered {
		have[name] = true
		if !documented[name] {
			t.Errorf("flag -%s is registered by parseConfig but not in server/OPERATIONS.md's flag tables", name)
		}
	}
	var names []string
	for name := range documented {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !have[name] {
			t.Errorf("server/OPERATIONS.md documents -%s, which parseConfig does not register", name)
		}
	}
	src := goSources(t, ".")
	for _, env := range envs {
		if !strings.Contains(src, `"`+env+`"`) {
			t.Errorf("server/OPERATIONS.md names the environment variable %s, which server/cmd/duplex does not read", env)
		}
	}
}

// goSources returns the non-test Go files of dir, concatenated.
func goSources(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// docFiles returns README.md and every Markdown file beside the code
// (app/, server/, shared/), relative to the repository root.
func docFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot()
	docs := []string{"README.md"}
	for _, top := range []string{"app", "server", "shared"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".md") {
				rel, _ := filepath.Rel(root, path)
				docs = append(docs, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return docs
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	mdFence   = regexp.MustCompile("(?ms)^```.*?^```")
	mdCode    = regexp.MustCompile("``[^`]*``|`[^`\n]*`") // inline code: `[x](url)` is no link
)

// anchors returns the GitHub anchors of a Markdown document's headings.
func anchors(doc string) map[string]bool {
	out := make(map[string]bool)
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(doc, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != '→' && r != '·' && r != '—':
				b.WriteRune(r)
			}
		}
		a := b.String()
		for i := 0; out[a]; i++ { // GitHub numbers repeated headings
			a = b.String() + "-" + string(rune('1'+i))
		}
		out[a] = true
	}
	return out
}

// TestDocLinks checks that every relative link (and its #anchor) in the
// README and the documents beside the code points at something that
// exists.
func TestDocLinks(t *testing.T) {
	root := repoRoot()
	docs := docFiles(t)
	if len(docs) < 6 {
		t.Fatalf("found only %v", docs)
	}
	checked := 0
	for _, rel := range docs {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		text := mdCode.ReplaceAllString(mdFence.ReplaceAllString(string(data), ""), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := filepath.Join(root, rel)
			if file != "" {
				path = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
			}
			checked++
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s: %v", rel, target, err)
				continue
			}
			if anchor == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			targetDoc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors(string(targetDoc))[anchor] {
				t.Errorf("%s links to %s: no heading with the anchor #%s", rel, target, anchor)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d links", checked)
	}
}

// TestReadmeExamplesCompile builds every `package main` program in the
// README (the embedding example and the bot) with the go command, as a
// package inside this module.
func TestReadmeExamplesCompile(t *testing.T) {
	root := repoRoot()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var programs []string
	for _, m := range regexp.MustCompile("(?ms)^```go\n(.*?)^```").FindAllStringSubmatch(string(readme), -1) {
		if strings.HasPrefix(m[1], "package main\n") {
			programs = append(programs, m[1])
		}
	}
	if len(programs) < 2 {
		t.Fatalf("found %d Go programs in README.md, want the embedding example and the bot", len(programs))
	}
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		if goCmd, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command")
		}
	}
	// A directory starting with "_" is inside the module (so the programs
	// import this module's packages) but left out of ./... patterns.
	dir, err := os.MkdirTemp(root, "_readme-examples-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for i, src := range programs {
		pkg := filepath.Join(dir, "ex"+string(rune('0'+i)))
		if err := os.Mkdir(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, pkg)
		cmd := exec.Command(goCmd, "vet", "./"+filepath.ToSlash(rel))
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README program %d does not compile: %v\n%s\n%s", i+1, err, out, src)
		}
	}
}

// TestOptionsDocumented checks that OPERATIONS.md names every field of
// server.Options (a new field without a word there fails; tried by
// removing `PresenceInterval` from the list).
func TestOptionsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(), "server", "OPERATIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(server.Options{})
	for i := range typ.NumField() {
		if f := typ.Field(i); f.IsExported() && !strings.Contains(string(doc), "`"+f.Name+"`") {
			t.Errorf("server.Options.%s is not named in server/OPERATIONS.md", f.Name)
		}
	}
}
