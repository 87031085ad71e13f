package shared

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decode parses and validates one frame strictly: it is how a server reads
// what clients send. On failure it returns an *Error whose Code says what
// was wrong; the returned Frame still carries the type and request id when
// they could be read, so the error can name the request. Unknown types and
// fields, repeated fields and wrongly-cased field names are errors.
//
// MaxFrameBytes bounds what a client may send: a frame longer than that is
// refused with CodeTooLarge unless it has a server-to-client type, since
// server frames such as a history ack or a batch may be longer.
func Decode(b []byte) (Frame, error) {
	if f, ok := decodeFast(b); ok {
		return f, nil
	}
	f, err := decode(b)
	if len(b) > MaxFrameBytes && !isServerFrame(f.Type) {
		return Frame{Type: f.Type, ID: f.ID}, Errorf(CodeTooLarge, "frame is %d bytes, the limit is %d", len(b), MaxFrameBytes)
	}
	return f, err
}

// DecodeServerFrame parses one frame as a client reads what a server sends:
// leniently, so that a newer server may add frame types and fields. Unknown
// fields, at any depth, are ignored; an unknown type is an *Error with
// CodeUnknownType, for the caller to skip (DecodeAll does). Everything
// else (malformed JSON, wrong field types, the rules of known fields) is
// checked as by Decode.
func DecodeServerFrame(b []byte) (Frame, error) {
	if f, ok := decodeFast(b); ok {
		return f, nil
	}
	return decodeAs(b, nil)
}

// decode is the general path of Decode: strict, of any length.
func decode(b []byte) (Frame, error) { return decodeAs(b, checkFields) }

// fieldCheck is checkFields for the strict decoder and nil for the lenient
// one: passed as a value, the check is linked only into binaries that
// decode strictly (servers), not into the wasm client.
type fieldCheck func(b []byte, t reflect.Type, where string) *Error

var envelopeType = reflect.TypeFor[Envelope]()

// decodeAs decodes b strictly, with check (as the server reads clients), or
// leniently, with a nil check (as clients read servers: unknown fields
// ignored).
func decodeAs(b []byte, check fieldCheck) (Frame, error) {
	strict := check != nil
	var f Frame
	if !utf8.Valid(b) {
		return f, Errorf(CodeBadFrame, "frame is not valid UTF-8")
	}
	var env Envelope
	if err := unmarshal(b, &env, strict); err != nil {
		return f, Errorf(CodeBadFrame, "frame is not a valid envelope: %s", jsonReason(err))
	}
	if strict {
		// A repeated or wrongly-cased type or id makes both untrustworthy:
		// the error names no request.
		if err := check(b, envelopeType, ""); err != nil {
			return f, err
		}
	}
	if env.ID != "" {
		if err := ValidID("id", env.ID); err != nil {
			return f, err
		}
	}
	f.Type, f.ID = env.Type, env.ID
	if env.Type == "" {
		return f, Errorf(CodeBadFrame, "frame has no type")
	}
	p, ok := newPayload(env.Type)
	if !ok {
		return f, Errorf(CodeUnknownType, "unknown frame type %s", clip(string(env.Type)))
	}
	if len(env.Data) == 0 || bytes.Equal(env.Data, []byte("null")) {
		env.Data = []byte("{}")
	}
	if raw, isRaw := p.(*json.RawMessage); isRaw {
		*raw = env.Data
	} else {
		if strict {
			if err := check(env.Data, reflect.TypeOf(p), "data"); err != nil {
				return f, err
			}
		}
		if err := unmarshal(env.Data, p, strict); err != nil {
			return f, Errorf(CodeBadFrame, "%s data: %s", env.Type, jsonReason(err))
		}
	}
	if v, ok := p.(interface{ validate() error }); ok {
		if err := v.validate(); err != nil {
			return f, err
		}
	}
	if isRequest(env.Type) && env.ID == "" {
		return f, Errorf(CodeBadFrame, "%s frame has no id", env.Type)
	}
	f.Payload = p
	return f, nil
}

// Prefixes of the frames the fast paths handle, exactly as Encode writes them.
var (
	messagePrefix = []byte(`{"type":"message","data":{`)
	batchPrefix   = []byte(`{"type":"batch","data":{"frames":[`)
	batchSuffix   = []byte(`]}}`)
)

// decodeFast is the hot path of a busy client: a message frame exactly as
// Encode writes it, parsed by hand without reflection. Anything else, or
// anything unusual (escapes aside), goes to the general path, which
// decides and words the error, so the result is the same either way
// (FuzzDecodeFast checks that).
func decodeFast(b []byte) (Frame, bool) {
	if !bytes.HasPrefix(b, messagePrefix) || !utf8.Valid(b) {
		return Frame{}, false
	}
	p := fastParser{b: b, i: len(messagePrefix)}
	m := new(Message)
	ok := p.str(`"room":`, &m.Room) && p.lit(',') &&
		p.num(`"seq":`, &m.Seq) && p.lit(',') &&
		p.num(`"ts":`, &m.TS) && p.lit(',') &&
		p.str(`"author":{"user":`, &m.Author.User) && p.lit(',') &&
		p.str(`"nick":`, &m.Author.Nick) && p.lit('}') && p.lit(',') &&
		p.str(`"body":`, &m.Body) && p.lit(',') &&
		p.str(`"msg_id":`, &m.MsgID) && p.lit('}') && p.lit('}') &&
		p.i == len(b) && m.validate() == nil
	if !ok {
		return Frame{}, false
	}
	return Frame{Type: TypeMessage, Payload: m}, true
}

// fastParser reads the fixed shape of an encoded message frame.
type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) lit(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads key then a JSON string; strings with escapes are unquoted by
// encoding/json, so they mean exactly what they mean to the general path.
func (p *fastParser) str(key string, out *string) bool {
	if !bytes.HasPrefix(p.b[p.i:], []byte(key)) {
		return false
	}
	p.i += len(key)
	if !p.lit('"') {
		return false
	}
	start, escaped := p.i, false
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '\\':
			escaped = true
			p.i++
		case c < 0x20:
			return false
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !escaped {
				*out = string(raw)
				return true
			}
			return json.Unmarshal(p.b[start-1:p.i], out) == nil
		}
	}
	return false
}

func (p *fastParser) num(key string, out *int64) bool {
	if !bytes.HasPrefix(p.b[p.i:], []byte(key)) {
		return false
	}
	p.i += len(key)
	start := p.i
	for p.i < len(p.b) && (p.b[p.i] >= '0' && p.b[p.i] <= '9' || p.b[p.i] == '-') {
		p.i++
	}
	// Leading zeros and "-0" are not JSON; leave them to the general path.
	digits := p.b[start:p.i]
	if len(digits) == 0 || len(digits) > 1 && digits[0] == '0' || digits[0] == '-' {
		return false
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	*out = n
	return err == nil
}

// DecodeAll decodes one WebSocket message as a client receives it from a
// server (DecodeServerFrame: unknown fields ignored): a single frame, or a
// batch whose inner frames it hands to each in order. A frame of a type
// this client does not know, alone or inside a batch, is skipped without a
// call: a newer server may send types an older client does not know. An
// invalid inner frame of a known type is passed with its error, to be
// skipped; the returned error is about the message as a whole. A batch
// written by EncodeBatch is split without decoding it twice, which matters
// to clients of busy rooms.
func DecodeAll(b []byte, each func(Frame, error)) error {
	if bytes.HasPrefix(b, batchPrefix) && bytes.HasSuffix(b, batchSuffix) {
		if raws, ok := splitArray(b[len(batchPrefix) : len(b)-len(batchSuffix)]); ok && utf8.Valid(b) {
			for _, raw := range raws {
				eachInner(raw, each)
			}
			return nil
		}
	}
	f, err := DecodeServerFrame(b)
	if unknownType(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if batch, ok := f.Payload.(*Batch); ok {
		for _, raw := range batch.Frames {
			eachInner(raw, each)
		}
		return nil
	}
	each(f, nil)
	return nil
}

func eachInner(raw []byte, each func(Frame, error)) {
	f, err := DecodeServerFrame(raw)
	if unknownType(err) {
		return
	}
	if err == nil && f.Type == TypeBatch {
		err = Errorf(CodeBadFrame, "a batch may not hold a batch")
	}
	each(f, err)
}

func unknownType(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Code == CodeUnknownType
}

// splitArray splits the body of a JSON array (without its brackets) at
// its top-level commas, tracking only strings and nesting; decoding each
// element validates it.
func splitArray(b []byte) ([][]byte, bool) {
	var out [][]byte
	depth, start, inStr, esc := 0, 0, false, false
	for i, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth < 0 {
				return nil, false
			}
		case ',':
			if depth == 0 {
				out = append(out, b[start:i])
				start = i + 1
			}
		}
	}
	if inStr || depth != 0 {
		return nil, false
	}
	if len(out) > 0 || len(bytes.TrimSpace(b[start:])) > 0 {
		out = append(out, b[start:])
	}
	return out, true
}

// Encode builds the JSON text of a frame. HTML characters are not escaped,
// so bodies stay as compact as the sender wrote them.
func Encode(t Type, id string, payload any) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(128)
	buf.WriteString(`{"type":`)
	if err := writeJSON(&buf, string(t)); err != nil {
		return nil, err
	}
	if id != "" {
		buf.WriteString(`,"id":`)
		if err := writeJSON(&buf, id); err != nil {
			return nil, err
		}
	}
	if payload != nil {
		buf.WriteString(`,"data":`)
		if err := writeJSON(&buf, payload); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// EncodeBatch wraps already encoded frames in one batch frame without
// decoding them again.
func EncodeBatch(frames [][]byte) []byte {
	n := 32
	for _, f := range frames {
		n += len(f) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"type":"batch","data":{"frames":[`...)
	for i, f := range frames {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	return append(b, "]}}"...)
}

// DecodeAck decodes the payload of an ack frame into v (for example
// *SendAck), knowing the request it answers.
func DecodeAck(f Frame, v any) error {
	raw, ok := f.Payload.(*json.RawMessage)
	if !ok {
		return Errorf(CodeBadFrame, "%s frame is not an ack", f.Type)
	}
	if err := json.Unmarshal(*raw, v); err != nil {
		return Errorf(CodeBadFrame, "ack data: %s", jsonReason(err))
	}
	return nil
}

func writeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encoder appends a newline
	return nil
}

// unmarshal decodes exactly one JSON value, refusing trailing data and,
// when strict, unknown fields.
func unmarshal(b []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	for _, c := range b[dec.InputOffset():] { // only JSON whitespace may follow
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return errors.New("trailing data after the JSON value")
		}
	}
	return nil
}

// jsonReason turns encoding/json errors into short messages that name the
// field, without Go type names.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got := cut(te.Value) // "number 1e3": a literal from the frame
		field := te.Field
		if field == "" {
			return "wrong JSON type: expected an object, got " + got
		}
		return "field " + field + ": expected " + jsonKind(te.Type.Kind().String()) + ", got " + got
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "malformed JSON: " + se.Error()
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if q, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if name, err := strconv.Unquote(q); err == nil {
			return "unknown field " + clip(name)
		}
	}
	if err == io.EOF {
		return "empty frame"
	}
	return msg
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return k
}

// isServerFrame reports whether t is a server-to-client frame type.
func isServerFrame(t Type) bool {
	switch t {
	case TypeWelcome, TypeAck, TypeError, TypeMessage, TypePresence,
		TypeMemberJoined, TypeMemberLeft, TypeRoomList, TypeBatch, TypeRemoved,
		TypePresenceDiff, TypePong, TypeReaction, TypeNickChanged:
		return true
	}
	return false
}

func isRequest(t Type) bool {
	switch t {
	case TypeHello, TypeJoin, TypeLeave, TypeSend, TypeHistory, TypeRooms,
		TypeAuth, TypeNick, TypeCreate, TypeDM, TypeInvite, TypeRemove,
		TypeMembers, TypeSearch, TypeUpload, TypeSignOut:
		return true
	}
	return false
}

func (h *Hello) validate() error {
	if h.User != "" {
		return Errorf(CodeUnauthorized, "hello.user is no longer accepted as proof of identity: present the token from an earlier welcome")
	}
	if err := ValidNick(h.Nick); err != nil {
		return err
	}
	return validToken(h.Token, false)
}

func (a *Auth) validate() error { return validToken(a.Token, true) }

func (n *Nick) validate() error { return ValidNick(n.Nick) }

func (c *Create) validate() error {
	if err := ValidRoom(c.Room); err != nil {
		return err
	}
	if c.Kind != RoomPublic && c.Kind != RoomPrivate {
		return Errorf(CodeInvalid, "kind must be %q or %q", RoomPublic, RoomPrivate)
	}
	return nil
}

func (d *DM) validate() error { return ValidID("user", d.User) }

func (i *Invite) validate() error {
	if err := ValidRoom(i.Room); err != nil {
		return err
	}
	return ValidID("user", i.User)
}

func (r *Remove) validate() error {
	if err := ValidRoom(r.Room); err != nil {
		return err
	}
	return ValidID("user", r.User)
}

func (r *Rooms) validate() error {
	if r.Limit < 0 || r.Limit > MaxRooms {
		return Errorf(CodeInvalid, "limit must be between 0 and %d, got %d", MaxRooms, r.Limit)
	}
	return notNegative("before", r.Before)
}

// validToken checks a credential's shape: printable ASCII, at most
// MaxTokenLen bytes. Whether it is genuine is the server's business.
func validToken(token string, required bool) error {
	if token == "" {
		if required {
			return Errorf(CodeInvalid, "token is empty")
		}
		return nil
	}
	if len(token) > MaxTokenLen {
		return Errorf(CodeTooLarge, "token is longer than %d bytes", MaxTokenLen)
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] > '~' {
			return Errorf(CodeInvalid, "token may hold only printable ASCII")
		}
	}
	return nil
}

func (j *Join) validate() error {
	if err := ValidRoom(j.Room); err != nil {
		return err
	}
	if j.Since != nil && *j.Since < 0 {
		return Errorf(CodeInvalid, "since must be 0 or more, got %d", *j.Since)
	}
	return nil
}

func (l *Leave) validate() error { return ValidRoom(l.Room) }

func (s *Send) validate() error {
	if err := ValidRoom(s.Room); err != nil {
		return err
	}
	if err := ValidID("msg_id", s.MsgID); err != nil {
		return err
	}
	if err := validAfter(s.After); err != nil {
		return err
	}
	return s.validateKind()
}

// validAfter checks an optional after: empty, or an id.
func validAfter(after string) error {
	if after == "" {
		return nil
	}
	return ValidID("after", after)
}

// The validations below have no side effects: cmp.Or runs them all and
// returns the first error, in the order the fields are checked.

func (h *History) validate() error {
	return cmp.Or(ValidRoom(h.Room), validPage(h.Before, h.Limit, MaxHistory))
}

func (m *Members) validate() error {
	return cmp.Or(ValidRoom(m.Room), validAfter(m.After), validLimit(m.Limit, MaxMembersPage))
}

func (p *PresenceDiff) validate() error { return ValidRoom(p.Room) }

func (e *ErrorFrame) validate() error {
	if e.Code == "" {
		return Errorf(CodeBadFrame, "error frame has no code")
	}
	return nil
}

func (m *Message) validate() error {
	if err := ValidRoom(m.Room); err != nil {
		return err
	}
	if m.Seq < 1 {
		return Errorf(CodeInvalid, "message seq must be positive, got %d", m.Seq)
	}
	return nil
}
