// Package broker carries committed messages from the node that stored them
// to every node that has members in the room. Memory is the single-node
// default; a NATS implementation fills the same interface for scale-out.
package broker

import (
	"context"
	"sync"

	"github.com/duplex-chat/duplex/shared"
)

// Broker fans committed messages out across nodes.
type Broker interface {
	// Publish hands a committed message to every subscriber, in the order
	// Publish is called for a room.
	Publish(ctx context.Context, msg shared.Message) error
	// Subscribe registers fn for every published message until cancel is
	// called. fn must not block.
	Subscribe(fn func(shared.Message)) (cancel func())
}

// Memory is the in-process Broker: Publish calls every subscriber
// synchronously, so delivery order is publish order.
type Memory struct {
	mu   sync.RWMutex
	subs map[int]func(shared.Message)
	next int
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an in-process broker.
func NewMemory() *Memory { return &Memory{subs: make(map[int]func(shared.Message))} }

// Publish implements Broker.
func (m *Memory) Publish(_ context.Context, msg shared.Message) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, fn := range m.subs {
		fn(msg)
	}
	return nil
}

// Subscribe implements Broker.
func (m *Memory) Subscribe(fn func(shared.Message)) func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.next
	m.next++
	m.subs[id] = fn
	return func() {
		m.mu.Lock()
		delete(m.subs, id)
		m.mu.Unlock()
	}
}
