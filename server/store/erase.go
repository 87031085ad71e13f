package store

// PrunedImages is a Store that reports the images retention removed the
// last message of (issue #15: an erased message's image leaves the data
// directory too). The server asks after each round of Prune and removes
// those files (files.Remover).
type PrunedImages interface {
	// TakePrunedImages returns the ids of the images whose last message
	// carrying them Prune has removed since the last call, and forgets
	// them.
	TakePrunedImages() []string
}
