package shared

import "strings"

// DMPrefix starts the name of every direct-message room; no other room
// may be given such a name.
const DMPrefix = "dm-"

// IsDMRoom reports whether name is a direct-message room's name.
func IsDMRoom(name string) bool { return strings.HasPrefix(name, DMPrefix) }

// OrPublic returns k, or RoomPublic when k is empty: a room recorded
// without a kind (one made by joining it, or from before kinds existed)
// is public.
func (k RoomKind) OrPublic() RoomKind {
	if k == "" {
		return RoomPublic
	}
	return k
}
