//go:build !js

package ui

// TestHooksDocumented keeps app/ui/README.md's hooks table and the
// components' data-test attributes in step, both ways. Bad inputs tried
// by hand: a row removed from the table (the hook is named as
// undocumented), a row for a hook no component sets (`no-such-hook`:
// named as missing from the sources), a DataSet("test", …) renamed in a
// component.

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// documentedHooks returns the hooks in the first column of the table
// under "## Test hooks" in README.md.
func documentedHooks(t *testing.T) map[string]bool {
	t.Helper()
	doc, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Test hooks\n")
	if !ok {
		t.Fatal(`README.md has no "## Test hooks" section`)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	hooks := make(map[string]bool)
	code := regexp.MustCompile("`([a-z0-9-]+)`")
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(strings.Split(line, "|")[1], -1) {
			hooks[m[1]] = true
		}
	}
	if len(hooks) < 50 {
		t.Fatalf("found only %d hooks in README.md's table", len(hooks))
	}
	return hooks
}

func TestHooksDocumented(t *testing.T) {
	documented := documentedHooks(t)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(data)
	}
	code := src.String()
	// Hooks set in the sources: DataSet("test", "x") literals, and the
	// sidebar sections, whose hook is renderSection's second argument.
	set := make(map[string]bool)
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`DataSet\("test",\s*"([^"]+)"\)`),
		regexp.MustCompile(`renderSection\([^,]+,\s*"([^"]+)"`),
	} {
		for _, m := range re.FindAllStringSubmatch(code, -1) {
			set[m[1]] = true
		}
	}
	if len(set) < 50 {
		t.Fatalf("found only %d data-test hooks in app/ui's sources", len(set))
	}
	var names []string
	for h := range set {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if !documented[h] {
			t.Errorf("data-test=%q is set in app/ui but not in README.md's hooks table", h)
		}
	}
	names = names[:0]
	for h := range documented {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if !strings.Contains(code, `"`+h+`"`) {
			t.Errorf("README.md's hooks table documents %q, which no app/ui source sets", h)
		}
	}
}
