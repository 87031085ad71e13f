//go:build race

package files_test

// raceEnabled: the race detector's runtime allocates beside the
// decoders, so TotalAlloc measures more than the decoders cost.
const raceEnabled = true
