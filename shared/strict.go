package shared

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// encoding/json matches object keys to struct fields case-insensitively and
// lets the last of a repeated key win, so {"type":"hello","type":"join"}
// would run as a join and {"Type":"rooms","ID":"1"} would pass. The protocol
// forbids both (PROTOCOL.md section 2); checkFields enforces that before
// encoding/json sees an object, with a hand scanner over the keys instead
// of a second JSON library, to keep the wasm bundle small.

// echoRunes is how much of a client-supplied string an error message may
// quote: enough to recognise it, too little to turn an error into an echo.
const echoRunes = 32

// clip quotes s for an error message, keeping at most echoRunes runes and
// marking a cut with "…".
func clip(s string) string {
	short, cutOff := prefix(s)
	if cutOff {
		return strconv.Quote(short) + "…"
	}
	return strconv.Quote(s)
}

// cut is clip without the quotes, for text that is not a name.
func cut(s string) string {
	if short, cutOff := prefix(s); cutOff {
		return short + "…"
	}
	return s
}

// prefix returns the first echoRunes runes of s, and whether s is longer.
func prefix(s string) (string, bool) {
	n := 0
	for i := range s {
		if n == echoRunes {
			return s[:i], true
		}
		n++
	}
	return s, false
}

// fieldError is a repeated or wrongly-cased field found by checkFields.
type fieldError struct {
	path string // known field names from the top, dot-separated
	key  string // the key as the frame spells it
	want string // the spelling the protocol wants; "" for a repeat
}

func (e *fieldError) toError() *Error {
	name := clip(e.key)
	if e.path != "" {
		name += " in " + e.path
	}
	if e.want == "" {
		return Errorf(CodeInvalid, "field %s is repeated: a field may appear once per object", name)
	}
	return Errorf(CodeInvalid, "field %s must be spelled %q: field names are case-sensitive", name, e.want)
}

// checkFields scans the JSON value b, which encoding/json has already
// accepted as syntactically valid, following the Go type t, and reports the
// first object that repeats a key or spells a field of t in another case.
// A key t does not know is left to encoding/json (an unknown field), and
// values of no known struct type (json.RawMessage, a value of the wrong
// JSON type) are skipped: they are checked when decoded, or refused.
func checkFields(b []byte, t reflect.Type, path string) *fieldError {
	s := fieldScanner{b: b}
	if err := s.value(t, path); err != errStopScan {
		return err
	}
	return nil
}

// errStopScan ends a scan at a key its struct does not know: that is
// encoding/json's error to report, and stopping there bounds the keys
// remembered per object by the fields of the struct.
var errStopScan = &fieldError{}

type fieldScanner struct {
	b []byte
	i int
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func (s *fieldScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value; t is its Go type, nil when nothing is known.
func (s *fieldScanner) value(t reflect.Type, path string) *fieldError {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		t = nil
	}
	s.space()
	if s.i >= len(s.b) {
		return nil
	}
	switch s.b[s.i] {
	case '{':
		return s.object(t, path)
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		s.i++
		for {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] == ']' {
				s.i++
				return nil
			}
			if err := s.value(elem, path); err != nil {
				return err
			}
			s.space()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
			}
		}
	case '"':
		s.str()
	default: // number, true, false, null; one byte at least, so scans end
		for s.i++; s.i < len(s.b) && !isDelim(s.b[s.i]); {
			s.i++
		}
	}
	return nil
}

func (s *fieldScanner) object(t reflect.Type, path string) *fieldError {
	var fields map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		fields = jsonFields(t)
	}
	var seen []string // at most len(fields)+1 keys: see errStopScan
	s.i++             // '{'
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			s.i++ // '}' (or input encoding/json would have refused)
			return nil
		}
		key := s.str()
		ft, known := fields[key]
		if fields != nil {
			for _, k := range seen {
				if k == key {
					return &fieldError{path: path, key: key}
				}
			}
			seen = append(seen, key)
			if !known {
				for name := range fields {
					if strings.EqualFold(name, key) { // as encoding/json folds
						return &fieldError{path: path, key: key, want: name}
					}
				}
				return errStopScan
			}
		}
		s.space()
		s.i++ // ':'
		inner := key
		if path != "" {
			inner = path + "." + key
		}
		if err := s.value(ft, inner); err != nil {
			return err
		}
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
		}
	}
}

func isDelim(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// str scans a JSON string at s.i and returns its value; escapes are rare
// in keys, so only then does it ask encoding/json to unquote.
func (s *fieldScanner) str() string {
	start := s.i
	s.i++ // '"'
	escaped := false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			raw := s.b[start:s.i]
			if !escaped {
				return string(raw[1 : len(raw)-1])
			}
			var v string
			json.Unmarshal(raw, &v)
			return v
		}
		s.i++
	}
	return ""
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the JSON names of struct t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}
