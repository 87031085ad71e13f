package shared

import (
	"reflect"
	"testing"
)

// TestCheckFieldsFollowsEmbedding: a payload that embeds a struct (as a
// future frame might) has its promoted fields checked like its own, so
// the repeat and case checks do not stop at them.
func TestCheckFieldsFollowsEmbedding(t *testing.T) {
	type Base struct {
		Room string `json:"room"`
		Seq  int64  `json:"seq"`
	}
	type Edit struct {
		Base
		Body string `json:"body"`
	}
	typ := reflect.TypeFor[*Edit]()
	cases := []struct {
		in   string
		fail bool
	}{
		{`{"room":"a","seq":1,"body":"b"}`, false},
		{`{"room":"a","room":"b"}`, true},
		{`{"body":"b","Room":"a"}`, true},
		{`{"seq":1,"SEQ":2}`, true},
	}
	for _, tc := range cases {
		if err := checkFields([]byte(tc.in), typ, "data"); (err != nil) != tc.fail {
			t.Errorf("%s: error %v, want failure %v", tc.in, err, tc.fail)
		}
	}
}
