package client

import (
	"context"

	"github.com/duplex-chat/duplex/shared"
)

// Search asks the server for messages matching query (plain words: each
// must start a word of the message), in room or, when room is empty, in
// every room the user may read; newest first, at most limit (1 to
// shared.MaxSearch). before is 0 for the newest results, or the Next of
// the previous answer for the page after it.
func (c *Client) Search(ctx context.Context, query, room string, before int64, limit int) (shared.SearchAck, error) {
	return ask[shared.SearchAck](ctx, c, shared.TypeSearch, &shared.Search{Query: query, Room: room, Before: before, Limit: limit})
}
