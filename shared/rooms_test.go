package shared_test

import (
	"testing"

	"github.com/duplex-chat/duplex/shared"
)

// TestRoomKindOrPublic: an empty kind is public, every named kind stays
// itself, and an unknown one is passed through, not guessed.
func TestRoomKindOrPublic(t *testing.T) {
	for in, want := range map[shared.RoomKind]shared.RoomKind{
		"":                 shared.RoomPublic,
		shared.RoomPublic:  shared.RoomPublic,
		shared.RoomPrivate: shared.RoomPrivate,
		shared.RoomDM:      shared.RoomDM,
		"secret":           "secret",
	} {
		if got := in.OrPublic(); got != want {
			t.Errorf("RoomKind(%q).OrPublic() = %q, want %q", in, got, want)
		}
	}
}

// TestIsDMRoom: only names that start with the prefix are DM rooms; the
// prefix elsewhere in a name, a different case or a bare "dm" is not.
func TestIsDMRoom(t *testing.T) {
	for name, want := range map[string]bool{
		shared.DMPrefix + "0123abcd": true,
		"dm-":                        true,
		"general":                    false,
		"dm":                         false,
		"DM-abc":                     false,
		"my-dm-room":                 false,
		"":                           false,
	} {
		if got := shared.IsDMRoom(name); got != want {
			t.Errorf("IsDMRoom(%q) = %v, want %v", name, got, want)
		}
	}
}
