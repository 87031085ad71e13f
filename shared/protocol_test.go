package shared_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// docFrame is a frame example found in a code block of PROTOCOL.md.
type docFrame struct {
	line int
	dir  string // "→", "←" or "" (not in a transcript)
	text string
}

func protocolDoc(t *testing.T) (lines []string, frames []docFrame) {
	t.Helper()
	b, err := os.ReadFile("PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	inCode, skip := false, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		lines = append(lines, line)
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			skip = line == "```text" // a schema, not a frame
			continue
		}
		i := strings.Index(line, `{"type":`)
		if !inCode || skip || i < 0 {
			continue
		}
		dir := strings.TrimSpace(line[:i])
		frames = append(frames, docFrame{n, dir, line[i:]})
	}
	return lines, frames
}

// strictInto decodes raw into v, refusing unknown fields.
func strictInto(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestProtocolExamples decodes every frame example of PROTOCOL.md.
func TestProtocolExamples(t *testing.T) {
	_, frames := protocolDoc(t)
	if len(frames) < 40 {
		t.Fatalf("found only %d frame examples", len(frames))
	}
	seen := map[shared.Type]bool{}
	var lastFailed *shared.Error
	var lastID string
	for _, d := range frames {
		f, err := shared.Decode([]byte(d.text))
		if d.dir == "→" {
			// A request in a transcript may be meant to fail; the next
			// error frame must then be exactly what the decoder says.
			lastFailed, lastID = nil, f.ID
			if err != nil {
				errors.As(err, &lastFailed)
				continue
			}
			if !strings.Contains(d.text, `"id":`) {
				t.Errorf("PROTOCOL.md:%d: request without id", d.line)
			}
		}
		if err != nil {
			t.Errorf("PROTOCOL.md:%d: %v\n%s", d.line, err, d.text)
			continue
		}
		seen[f.Type] = true
		switch p := f.Payload.(type) {
		case *shared.Batch:
			for _, raw := range p.Frames {
				if _, err := shared.Decode(raw); err != nil {
					t.Errorf("PROTOCOL.md:%d: inner frame: %v", d.line, err)
				}
			}
		case *json.RawMessage:
			if !ackShapeOK(*p) {
				t.Errorf("PROTOCOL.md:%d: ack data %s has no known shape", d.line, *p)
			}
		case *shared.ErrorFrame:
			if lastFailed != nil && d.dir == "←" {
				if f.ID != lastID || p.Code != lastFailed.Code || p.Message != lastFailed.Message {
					t.Errorf("PROTOCOL.md:%d: error frame is not what Decode says: want id %q, %s: %q", d.line, lastID, lastFailed.Code, lastFailed.Message)
				}
				lastFailed = nil
			}
		}
	}
	if lastFailed != nil {
		t.Errorf("a failing request in PROTOCOL.md is not followed by its error")
	}
	for _, typ := range []shared.Type{
		shared.TypeHello, shared.TypeJoin, shared.TypeLeave, shared.TypeSend, shared.TypeHistory, shared.TypeRooms,
		shared.TypeWelcome, shared.TypeAck, shared.TypeError, shared.TypeMessage, shared.TypePresence,
		shared.TypeMemberJoined, shared.TypeMemberLeft, shared.TypeRoomList, shared.TypeBatch,
		shared.TypeMembers, shared.TypePresenceDiff,
	} {
		if !seen[typ] {
			t.Errorf("PROTOCOL.md has no example of %s", typ)
		}
	}

	// The bad_frame example is the decoder's own message for "hello".
	_, err := shared.Decode([]byte("hello"))
	var e *shared.Error
	errors.As(err, &e)
	want, _ := json.Marshal(e.Message)
	b, _ := os.ReadFile("PROTOCOL.md")
	if !bytes.Contains(b, want) {
		t.Errorf("PROTOCOL.md does not quote the decoder's message %s", want)
	}
}

func ackShapeOK(raw []byte) bool {
	if string(raw) == "{}" {
		return true
	}
	var ja shared.JoinAck
	var sa shared.SendAck
	var ha shared.HistoryAck
	var aa shared.AuthAck
	var na shared.Nick
	var ri shared.RoomInfo
	var ia shared.Invite
	var ma shared.MembersAck
	var rd shared.ReadAck
	var sr shared.SearchAck
	if strictInto(raw, &rd) == nil || strictInto(raw, &sr) == nil {
		return true
	}
	var ua shared.UploadAck
	if strictInto(raw, &ua) == nil && ua.Image.ID != "" {
		return true
	}
	var so shared.SignOutAck
	if strictInto(raw, &so) == nil {
		return true
	}
	return strictInto(raw, &ja) == nil || strictInto(raw, &sa) == nil || strictInto(raw, &ha) == nil ||
		strictInto(raw, &aa) == nil || strictInto(raw, &na) == nil || strictInto(raw, &ri) == nil || strictInto(raw, &ia) == nil || strictInto(raw, &ma) == nil
}

// TestProtocolTables checks the error-code and close-code tables of
// PROTOCOL.md against the code.
func TestProtocolTables(t *testing.T) {
	lines, _ := protocolDoc(t)
	cell := func(line string) []string {
		var out []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			out = append(out, strings.TrimSpace(c))
		}
		return out
	}
	codeRow := regexp.MustCompile("^\\| `([a-z_]+)` +\\|")
	closeRow := regexp.MustCompile(`^\| (\d{4}) \|`)
	codes, closes := 0, 0
	for _, line := range lines {
		if codeRow.MatchString(line) {
			c := cell(line)
			code := shared.Code(strings.Trim(c[0], "`"))
			if !knownCodes[code] {
				continue // a table of fields, not of codes
			}
			codes++
			retry := strings.Trim(c[len(c)-1], "*") == "yes"
			if retry != code.Retryable() {
				t.Errorf("PROTOCOL.md says %s retryable=%v, code says %v", code, retry, code.Retryable())
			}
		}
		if m := closeRow.FindStringSubmatch(line); m != nil {
			closes++
			n, _ := strconv.Atoi(m[1])
			cc := shared.CloseCode(n)
			c := cell(line)
			if recon := c[len(c)-1] == "yes"; recon != cc.ShouldReconnect() {
				t.Errorf("PROTOCOL.md says %d reconnect=%v, code says %v", n, recon, cc.ShouldReconnect())
			}
			if !strings.Contains(c[2], "`"+cc.Reason()+"`") {
				t.Errorf("PROTOCOL.md reason for %d is %q, code says %q", n, c[2], cc.Reason())
			}
		}
	}
	if codes != len(knownCodes) {
		t.Errorf("PROTOCOL.md error table has %d codes, the code %d", codes, len(knownCodes))
	}
	if closes != 14 {
		t.Errorf("PROTOCOL.md close table has %d rows, want 14", closes)
	}
}
