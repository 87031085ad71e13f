package ui

import "strings"

// dmPrefix starts the name of every direct-message room (the server names
// them "dm-" and the two users' ids). The one place the UI spells it: a
// shared helper would serve both sides (issue #18, point 7), but the
// server keeps its own today.
const dmPrefix = "dm-"

// isDMName reports whether room is named as a direct-message room, for
// rooms the room list has not described yet (a described room says its
// kind: shared.RoomInfo.Kind).
func isDMName(room string) bool { return strings.HasPrefix(room, dmPrefix) }
