//go:build race

package sqlite

// raceEnabled: SQLite runs many times slower under the race detector,
// so a few workloads are scaled down there.
const raceEnabled = true
