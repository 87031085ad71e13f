package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/duplex-chat/duplex/server/store"
	"github.com/duplex-chat/duplex/server/store/storetest"
	"github.com/duplex-chat/duplex/shared"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(testing.TB) store.Store { return store.NewMemory() })
}

func TestMemoryClosed(t *testing.T) {
	m := store.NewMemory()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Append(ctx, []store.NewMessage{{Room: "a", MsgID: "m", Body: "x"}}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if err := m.AddMember(ctx, "a", shared.Member{User: "u", Nick: "n"}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("AddMember after Close: %v, want ErrClosed", err)
	}
}
