package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/duplex-chat/duplex/server/cluster"
	"github.com/duplex-chat/duplex/server/store/sqlite"
)

// clusterFlags make the node a member of a cluster on NATS JetStream
// (issue #16; server/cluster). Without -nats-url the node is alone, as
// before.
type clusterFlags struct {
	natsURL    string
	replicas   int
	stream     string
	duplicates time.Duration
	name       string
}

func (c *clusterFlags) register(fs *flag.FlagSet, env func(key, def string) string) {
	fs.StringVar(&c.natsURL, "nats-url", env("NATS_URL", ""), "NATS server list (comma-separated); set, the node joins a cluster: every room's log lives in JetStream and the SQLite store in -data is this node's projection of it (env NATS_URL)")
	fs.IntVar(&c.replicas, "nats-replicas", 0, "replicas of the room log stream: 3 on a three-server NATS cluster, 1 for one server (0: 1)")
	fs.StringVar(&c.stream, "nats-stream", "", "name of the JetStream stream of room logs; nodes of one cluster share it (0: DUPLEX_ROOMS)")
	fs.DurationVar(&c.duplicates, "nats-duplicates", 0, "JetStream's duplicate window on the stream; Duplex's idempotency does not depend on it (0: 2m)")
	fs.StringVar(&c.name, "node-name", env("NODE_NAME", ""), "this node's name in logs and in NATS (env NODE_NAME; default: the host name)")
}

// open opens the node on its projection.
func (c *clusterFlags) open(proj *sqlite.Store) (*cluster.Node, error) {
	name := c.name
	if name == "" {
		name, _ = os.Hostname()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := cluster.Open(ctx, cluster.Config{URL: c.natsURL, Replicas: c.replicas, Stream: c.stream, Duplicates: c.duplicates, Name: name}, proj)
	if err != nil {
		return nil, fmt.Errorf("joining the cluster at %s: %w", c.natsURL, err)
	}
	return n, nil
}
