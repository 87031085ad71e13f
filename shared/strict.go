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
// first object that repeats a key or spells a field of t in another case
// as an *Error with CodeInvalid;
// where names where b sits in the frame ("data"), "" for the envelope.
// A key t does not know is left to encoding/json (an unknown field), and
// values of no known struct type (json.RawMessage, a value of the wrong
// JSON type) are skipped: they are checked when decoded, or refused.
// The common case, a sound frame, allocates nothing.
func checkFields(b []byte, t reflect.Type, where string) *Error {
	s := fieldScanner{b: b}
	err := s.value(t)
	if err == nil || err == errStopScan {
		return nil
	}
	err.within(where)
	return err.toError()
}

// errStopScan ends a scan at a key its struct does not know: that is
// encoding/json's error to report, and stopping there bounds the keys
// remembered per object by the fields of the struct.
var errStopScan = &fieldError{}

// within prefixes the path of e with the name of the field holding it, as
// the error returns up through the objects that hold it.
func (e *fieldError) within(name string) {
	switch {
	case name == "":
	case e.path == "":
		e.path = name
	default:
		e.path = name + "." + e.path
	}
}

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
func (s *fieldScanner) value(t reflect.Type) *fieldError {
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
		return s.object(t)
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
			if err := s.value(elem); err != nil {
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

// maxSeen is how many keys an object's repeat check keeps on the stack;
// Duplex objects have at most 6 fields.
const maxSeen = 16

func (s *fieldScanner) object(t reflect.Type) *fieldError {
	var fields map[string]jsonField
	if t != nil && t.Kind() == reflect.Struct {
		fields = jsonFields(t)
	}
	var seenBuf [maxSeen]string
	seen := seenBuf[:0] // the canonical names of the keys so far
	s.i++               // '{'
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			s.i++ // '}' (or input encoding/json would have refused)
			return nil
		}
		key := s.str()
		f, known := fields[string(key)]
		if fields != nil {
			if !known {
				for name := range fields {
					if strings.EqualFold(name, string(key)) { // as encoding/json folds
						return &fieldError{key: string(key), want: name}
					}
				}
				return errStopScan
			}
			for _, k := range seen {
				if k == f.name {
					return &fieldError{key: f.name}
				}
			}
			seen = append(seen, f.name)
		}
		s.space()
		s.i++ // ':'
		if err := s.value(f.typ); err != nil {
			if err != errStopScan {
				err.within(f.name)
			}
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

// str scans a JSON string at s.i and returns its value, without copying
// when it has no escape; escapes are rare in keys, so only then does it
// ask encoding/json to unquote.
func (s *fieldScanner) str() []byte {
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
				return raw[1 : len(raw)-1]
			}
			var v string
			json.Unmarshal(raw, &v)
			return []byte(v)
		}
		s.i++
	}
	return nil
}

// jsonField is a struct field as JSON names it.
type jsonField struct {
	name string
	typ  reflect.Type
}

var fieldCache sync.Map // reflect.Type -> map[string]jsonField

// jsonFields maps the JSON names of struct t's fields to the fields.
func jsonFields(t reflect.Type) map[string]jsonField {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]jsonField)
	}
	m := make(map[string]jsonField, t.NumField())
	addFields(m, t)
	fieldCache.Store(t, m)
	return m
}

// addFields adds the fields of struct t to m, with the fields of an
// untagged embedded struct promoted as encoding/json promotes them (an
// outer field of the same name wins).
func addFields(m map[string]jsonField, t reflect.Type) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			embedded = append(embedded, ft)
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = jsonField{name: name, typ: f.Type}
	}
	for _, et := range embedded {
		inner := make(map[string]jsonField)
		addFields(inner, et)
		for name, f := range inner {
			if _, outer := m[name]; !outer {
				m[name] = f
			}
		}
	}
}
