// Command duplex-cluster runs a Duplex cluster on this machine for
// development (`make serve-cluster`): a three-server NATS JetStream
// cluster inside this process (server/cluster/natsrun), then three duplex
// nodes as child processes on 127.0.0.1:8081, 8082 and 8083, each a
// member of the cluster (-nats-url, -nats-replicas 3) with a data
// directory of its own and one session key shared by all, so that a
// browser's token works on every node.
//
//	duplex-cluster [-duplex bin/duplex] [-data data/cluster] [-nats-data data/cluster/nats] [-web web] [-ports 8081,8082,8083]
//
// SIGINT and SIGTERM are passed on to the nodes, which drain (their
// sockets are closed with 1012 and clients resume); NATS stops after
// them. A node that exits on its own is reported; the others go on. It
// listens on 127.0.0.1 only: production runs NATS on its own machines
// (server/OPERATIONS.md, "Running a cluster").
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/duplex-chat/duplex/server/cluster/natsrun"
)

func main() {
	duplexBin := flag.String("duplex", "bin/duplex", "the duplex binary the nodes run")
	dataDir := flag.String("data", filepath.Join("data", "cluster"), "directory of the nodes' data (node-1, node-2, node-3) and of the shared session key")
	natsDir := flag.String("nats-data", filepath.Join("data", "cluster", "nats"), "directory of the NATS servers' JetStream files")
	webDir := flag.String("web", "web", "the nodes' -web directory")
	ports := flag.String("ports", "8081,8082,8083", "the nodes' ports on 127.0.0.1, one per node")
	flag.Parse()
	if err := run(*duplexBin, *dataDir, *natsDir, *webDir, *ports); err != nil {
		fmt.Fprintln(os.Stderr, "duplex-cluster:", err)
		os.Exit(1)
	}
}

func run(duplexBin, dataDir, natsDir, webDir, portList string) error {
	var ports []int
	for _, p := range strings.Split(portList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("-ports: %q is not a port", p)
		}
		ports = append(ports, n)
	}
	if _, err := os.Stat(duplexBin); err != nil {
		return fmt.Errorf("%w (build it with: go build -o bin/duplex ./server/cmd/duplex)", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	key, err := sessionKey(filepath.Join(dataDir, "session.key"))
	if err != nil {
		return err
	}

	// Signals from here on are ours to pass on: the nodes run in process
	// groups of their own, so a Ctrl-C in the terminal reaches them only
	// through us, after which NATS stops.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)

	fmt.Printf("starting 3 NATS servers with JetStream (files in %s)...\n", natsDir)
	nats, err := natsrun.Start(natsDir, 3)
	if err != nil {
		return err
	}
	defer func() {
		nats.Shutdown()
		fmt.Println("NATS stopped")
	}()
	fmt.Println("NATS:", nats.URL())

	out := &lineWriter{w: os.Stdout}
	exited := make(chan *node, len(ports))
	var nodes []*node
	stopAll := func(s os.Signal) {
		for _, n := range nodes {
			n.signal(s)
		}
		for _, n := range nodes {
			n.wait(20 * time.Second)
		}
	}
	for i, port := range ports {
		name := fmt.Sprintf("node-%d", i+1)
		n, err := startNode(out, name, duplexBin, port, []string{
			"-addr", fmt.Sprintf("127.0.0.1:%d", port),
			"-data", filepath.Join(dataDir, name),
			"-web", webDir,
			"-nats-url", nats.URL(),
			"-nats-replicas", "3",
			"-node-name", name,
		}, key, exited)
		if err != nil {
			stopAll(syscall.SIGTERM)
			return err
		}
		nodes = append(nodes, n)
	}

	ready := make(chan error, 1)
	go func() { ready <- waitReady(nodes, 2*time.Minute) }()
	running := len(nodes)
	for {
		select {
		case err := <-ready:
			if err != nil {
				fmt.Println("duplex-cluster:", err)
				continue
			}
			fmt.Println()
			fmt.Println("Duplex cluster ready: three nodes, one log. Open a browser on each:")
			for _, n := range nodes {
				fmt.Printf("  http://127.0.0.1:%d   (%s)\n", n.port, n.name)
			}
			fmt.Println("Ctrl-C stops the nodes, then NATS.")
			fmt.Println()
		case n := <-exited:
			running--
			fmt.Printf("duplex-cluster: %s (pid %d) exited: %v; %d of %d nodes still running\n", n.name, n.pid, n.err, running, len(nodes))
			if running == 0 {
				return errors.New("every node exited")
			}
		case s := <-sig:
			fmt.Printf("\nduplex-cluster: %s: stopping the nodes, then NATS\n", s)
			stopAll(s)
			return nil
		}
	}
}

// node is one duplex child process.
type node struct {
	name string
	port int
	pid  int
	cmd  *exec.Cmd
	done chan struct{}
	err  error // how it exited, once done is closed
}

func startNode(out *lineWriter, name, bin string, port int, args []string, key string, exited chan<- *node) (*node, error) {
	cmd := exec.Command(bin, args...)
	// The key goes through the environment, not argv, so ps does not
	// show it.
	cmd.Env = append(os.Environ(), "SESSION_KEY="+key)
	cmd.SysProcAttr = childAttr()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	n := &node{name: name, port: port, pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go out.copyLines(pr, "["+name+"] ")
	go func() {
		n.err = cmd.Wait()
		if n.err == nil {
			n.err = errors.New("exit status 0")
		}
		pw.Close()
		close(n.done)
		exited <- n
	}()
	return n, nil
}

func (n *node) signal(s os.Signal) {
	select {
	case <-n.done:
	default:
		n.cmd.Process.Signal(s)
	}
}

// wait waits for the node to exit, and kills it after d.
func (n *node) wait(d time.Duration) {
	select {
	case <-n.done:
	case <-time.After(d):
		fmt.Printf("duplex-cluster: %s did not stop within %s: killed\n", n.name, d)
		n.cmd.Process.Kill()
		<-n.done
	}
}

// waitReady polls every node's /readyz until each answers 200.
func waitReady(nodes []*node, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for _, n := range nodes {
		for {
			select {
			case <-n.done:
				return fmt.Errorf("%s exited before it was ready", n.name)
			default:
			}
			resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", n.port))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready after %s", n.name, timeout)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// sessionKey reads the cluster's shared session key, or makes one (32
// random bytes, hex) on first run: kept, so a restart signs nobody out.
func sessionKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if k := strings.TrimSpace(string(b)); len(k) >= 32 {
			return k, nil
		}
		return "", fmt.Errorf("%s is not a session key; delete it to make a new one (this signs everyone out)", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var raw [32]byte
	rand.Read(raw[:])
	k := hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", err
	}
	return k, nil
}

// lineWriter writes whole lines from several nodes to one output.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) copyLines(r io.Reader, prefix string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		fmt.Fprintln(l.w, prefix+sc.Text())
		l.mu.Unlock()
	}
	io.Copy(io.Discard, r) // a line over 1 MiB: keep the node from blocking
}
