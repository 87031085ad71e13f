// Package wsconn is the socket plumbing beneath the server's WebSocket
// connections: a hijacker that hands coder/websocket small buffers, a
// writer that sends one frame with one syscall, and a read deadline that
// follows frame boundaries. It knows nothing of Duplex's protocol or
// server.
package wsconn
