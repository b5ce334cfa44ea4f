// Package btcdtest starts a real btcd full node in regtest on loopback for
// end-to-end tests: the transactions gokms signs must be accepted by it.
//
// The node binary is built by scripts/btcd.sh into
// ${GOKMS_CACHE:-$HOME/.cache/gokms}/btcd-v0.24.2/btcd ($GOKMS_BTCD
// overrides). Find builds it if it is missing.
package btcdtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/rpcclient"
)

// Version is the btcd release the tests pin (scripts/btcd.sh builds it).
const Version = "v0.24.2"

// ErrNoNode means no btcd binary could be found or built.
var ErrNoNode = errors.New("btcd not available")

// Find returns the btcd binary: $GOKMS_BTCD, the cache, or a fresh build
// with scripts/btcd.sh (found by walking up from the working directory).
func Find() (string, error) {
	if p := os.Getenv("GOKMS_BTCD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: GOKMS_BTCD=%s: %v", ErrNoNode, p, err)
		}
		return p, nil
	}
	cache := os.Getenv("GOKMS_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%w: no GOKMS_CACHE and no home directory", ErrNoNode)
		}
		cache = filepath.Join(home, ".cache", "gokms")
	}
	bin := filepath.Join(cache, "btcd-"+Version, "btcd")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	script, err := findScript()
	if err != nil {
		return "", fmt.Errorf("%w: %s missing and %v", ErrNoNode, bin, err)
	}
	var out bytes.Buffer
	cmd := exec.Command(script)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s failed: %v\n%s", ErrNoNode, script, err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "btcd.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/btcd.sh not found above the working directory")
		}
		dir = parent
	}
}

// Node is a running regtest btcd.
type Node struct {
	RPC     *rpcclient.Client
	Params  *chaincfg.Params
	RPCAddr string
	Dir     string
	cmd     *exec.Cmd
	logs    *lockedBuf
	exited  chan error
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs btcd in regtest with its data in dir, RPC on a free loopback
// port without TLS, mining to miningAddr. It waits until RPC answers.
func Start(bin, dir string, miningAddr btcutil.Address) (*Node, error) {
	rpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	p2pPort, err := freePort()
	if err != nil {
		return nil, err
	}
	// Random credentials per run: the node listens on loopback only.
	user, pass := "gokms", strconv.FormatInt(time.Now().UnixNano(), 36)
	rpcAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(rpcPort))
	args := []string{
		"--regtest", "--datadir=" + filepath.Join(dir, "data"), "--logdir=" + filepath.Join(dir, "logs"),
		"--rpcuser=" + user, "--rpcpass=" + pass, "--rpclisten=" + rpcAddr, "--notls",
		"--listen=" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p2pPort)), "--nodnsseed", "--nobanning",
		"--miningaddr=" + miningAddr.EncodeAddress(), "--txindex", "--debuglevel=info",
	}
	n := &Node{Params: &chaincfg.RegressionNetParams, RPCAddr: rpcAddr, Dir: dir, logs: &lockedBuf{}, exited: make(chan error, 1)}
	n.cmd = exec.Command(bin, args...)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start btcd: %w", err)
	}
	go func() { n.exited <- n.cmd.Wait() }()
	n.RPC, err = rpcclient.New(&rpcclient.ConnConfig{
		Host: rpcAddr, User: user, Pass: pass, HTTPPostMode: true, DisableTLS: true,
	}, nil)
	if err != nil {
		n.Stop()
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := n.RPC.GetBlockCount(); err == nil {
			return n, nil
		} else if time.Now().After(deadline) {
			n.Stop()
			return nil, fmt.Errorf("btcd RPC did not come up: %v\n%s", err, n.Logs())
		}
		select {
		case err := <-n.exited:
			return nil, fmt.Errorf("btcd exited: %v\n%s", err, n.Logs())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Logs returns btcd's output so far.
func (n *Node) Logs() string { return n.logs.String() }

// Stop shuts the node down.
func (n *Node) Stop() {
	if n.RPC != nil {
		n.RPC.Shutdown()
	}
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(os.Interrupt)
		select {
		case <-n.exited:
		case <-time.After(15 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
