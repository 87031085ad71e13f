package store_test

import (
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/storetest"
)

func TestMemoryCredentials(t *testing.T) {
	storetest.Credentials(t, func(testing.TB) store.Store { return store.NewMemory() })
}
