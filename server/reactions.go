package server

import "github.com/duplex-chat/duplex/shared"

// DefaultReactionEmoji is the most distinct emoji a message carries when
// Options.MaxReactionEmoji is zero: Discord's 20 (Slack allows 23).
const DefaultReactionEmoji = 20

// reactionEmoji is the cap in force (Options.MaxReactionEmoji).
func (o *Options) reactionEmoji() int {
	switch n := o.MaxReactionEmoji; {
	case n <= 0:
		return DefaultReactionEmoji
	case n > shared.MaxReactionKinds:
		return shared.MaxReactionKinds
	default:
		return n
	}
}
