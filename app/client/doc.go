// Package client is the Duplex client: it dials the server, says hello,
// joins rooms, sends messages and reports everything that happens as typed
// events. It reconnects by itself with jittered exponential backoff,
// resumes every joined room from the last seq it holds (no gap, no
// duplicate), and keeps everything the person does (messages, edits,
// deletions, reactions, read markers) in one ordered outbox that it resends
// with the same msg_ids, in order, until the server answers them. It ignores
// server frame types and fields it does not know (shared.DecodeAll), so a
// newer server does not strand it.
//
// It compiles natively (bots, CLIs, tests, the load tool) and for js/wasm
// (the browser UI), where LocalStorage keeps the outbox, the cursors and the
// recent messages across page reloads.
package client
