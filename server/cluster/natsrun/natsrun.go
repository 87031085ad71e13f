// Package natsrun runs NATS servers with JetStream inside this process,
// on 127.0.0.1: one, or a cluster of several. The cluster tests use it,
// and so does `make serve-cluster` (server/cmd/duplex-cluster). It is
// for development and tests; production runs NATS on its own.
package natsrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is n NATS servers with JetStream, routed to each other when n
// is more than one.
type Cluster struct {
	opts    []*server.Options
	servers []*server.Server
}

// Start starts n servers whose JetStream files live under dir, and
// returns when JetStream answers (a cluster has elected its leader).
func Start(dir string, n int) (*Cluster, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i]))
	}
	c := &Cluster{}
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i+1),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("nats-%d", i+1)),
			NoSigs:     true,
			NoLog:      true,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "duplex", Host: "127.0.0.1", Port: ports[n+i]}
			o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		}
		c.opts = append(c.opts, o)
		c.servers = append(c.servers, nil)
	}
	for i := range n {
		if err := c.Restart(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	if err := c.WaitJetStream(60 * time.Second); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// URL is the client URL list of every server.
func (c *Cluster) URL() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Stop shuts server i down (its files stay).
func (c *Cluster) Stop(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// Restart starts server i again (or for the first time), on its port and
// with its files.
func (c *Cluster) Restart(i int) error {
	c.Stop(i)
	s, err := server.NewServer(c.opts[i])
	if err != nil {
		return fmt.Errorf("natsrun: server %d: %w", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("natsrun: server %d did not start", i+1)
	}
	c.servers[i] = s
	return nil
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Stop(i)
	}
}

// WaitJetStream returns when JetStream answers through the running
// servers: a cluster has a meta leader.
func (c *Cluster) WaitJetStream(timeout time.Duration) error {
	nc, err := nats.Connect(c.URL(), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("natsrun: JetStream not ready after %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePorts reserves n distinct ports on 127.0.0.1 and frees them.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("natsrun: no free port"), err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// StoreDirs are the JetStream directories of the servers, for tests that
// look at what is on disk.
func (c *Cluster) StoreDirs() []string {
	var dirs []string
	for _, o := range c.opts {
		dirs = append(dirs, o.StoreDir)
	}
	return dirs
}
