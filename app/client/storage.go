package client

import "sync"

// Storage keeps small string values across restarts of the client: the
// outbox, the per-room cursors and cached messages, and the user id. In the
// browser use LocalStorage; Memory forgets everything when the process ends.
type Storage interface {
	Get(key string) (string, bool)
	Set(key, value string)
}

// Memory is a Storage in process memory. The zero value is ready.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

// Get implements Storage.
func (s *Memory) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok
}

// Set implements Storage.
func (s *Memory) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]string)
	}
	s.m[key] = value
}
