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
	"strconv"
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

// TestArchitectureWalk: the walk in server/ARCHITECTURE.md matches the
// code. Every function it names (`file.go: (*T).name`, `file.go: name`,
// `file.go: name` with no folder, in the folder named last, and a bare
// `name` right after an arrow, in the file named last) is declared in that file, and the hop count the page states is
// the number of rows of its table. Bad inputs tried by hand: a function
// renamed in the page (named as not declared in its file), a file that
// does not exist, a row added without changing the stated count.
func TestArchitectureWalk(t *testing.T) {
	root := repoRoot()
	doc, err := os.ReadFile(filepath.Join(root, "server", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "## One message")
	end := strings.Index(text[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("ARCHITECTURE.md has no section \"## One message\"")
	}
	walk := text[start : start+1+end]
	m := regexp.MustCompile(`The walk has (\d+) hops`).FindStringSubmatch(walk)
	if m == nil {
		t.Fatal("the walk does not state its hop count (\"The walk has N hops\")")
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(walk, -1)
	if got := strconv.Itoa(len(rows)); got != m[1] {
		t.Errorf("the walk states %s hops and its table has %s rows", m[1], got)
	}
	for i, r := range rows {
		if r[1] != strconv.Itoa(i+1) {
			t.Errorf("row %d is numbered %s", i+1, r[1])
		}
	}
	named := regexp.MustCompile("(→ )?`(?:([\\w/]+\\.go): )?(?:\\(\\*(\\w+)\\)\\.)?(\\w+)`")
	sources := map[string]string{}
	checked := 0
	for _, line := range strings.Split(walk, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		file, dir := "", ""
		for _, n := range named.FindAllStringSubmatch(line, -1) {
			arrow, path, recv, name := n[1] != "", n[2], n[3], n[4]
			switch {
			case strings.Contains(path, "/"):
				file, dir = path, filepath.Dir(path)
			case path != "": // a short name is in the folder named last
				file = filepath.Join(dir, path)
			case !arrow || file == "":
				continue // a bare name not in an arrow chain: not a claim about a file
			}
			src, ok := sources[file]
			if !ok {
				b, err := os.ReadFile(filepath.Join(root, file))
				if err != nil {
					t.Errorf("the walk names %s: %v", file, err)
				}
				src, sources[file] = string(b), string(b)
			}
			decl := `(?m)^func (\(\w+ \*?\w+\) )?` + name + `\(`
			if recv != "" {
				decl = `(?m)^func \(\w+ \*` + recv + `\) ` + name + `\(`
			}
			if !regexp.MustCompile(decl).MatchString(src) {
				t.Errorf("the walk names %s in %s, which does not declare it", n[0], file)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d functions checked: the walk's format changed?", checked)
	}
}
