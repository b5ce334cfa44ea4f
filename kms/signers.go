package kms

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/evm"
	"github.com/gokms/gokms/signing/utxo"
)

// EnvRPCPrefix + a chain code names a chain's node (TATUM_KMS_RPC_ETH,
// TATUM_KMS_RPC_SOL).
const EnvRPCPrefix = "TATUM_KMS_RPC_"

// EnvEVMRPCPrefix is EnvRPCPrefix; the name is kept for the EVM docs.
const EnvEVMRPCPrefix = EnvRPCPrefix

// FlagRPC is the daemon flag that names a chain's node as CHAIN=URL.
const FlagRPC = "rpc"

// FlagEVMRPC is the older name of FlagRPC, for EVM chains only.
const FlagEVMRPC = "evm-rpc"

// SignerConfig is what the daemon's signers need besides keys: the nodes
// they ask (EVM JSON-RPC, a Solana node, ...), and the Tatum API for the
// chains whose signing asks Tatum (gateways, FLOW's proposer, ADA's
// Rosetta node).
type SignerConfig struct {
	EVM evm.Config // EVM nodes; APIKey is copied from APIKey when empty
	// Nodes maps a non-EVM chain code to its node's URL (--rpc CHAIN=URL,
	// TATUM_KMS_RPC_<CHAIN>); a chain without one uses Tatum's gateway.
	Nodes      map[string]string
	APIURL     string // Tatum API base URL (tatum.DefaultBaseURL when empty)
	APIKey     string
	Testnet    bool
	HTTPClient *http.Client
}

// family is one non-UTXO, non-EVM signer family as the daemon builds it.
type family struct {
	chains []string // chain codes it signs
	nodes  bool     // takes --rpc CHAIN=URL for its chains
	build  func(SignerConfig) (signing.Family, func(), error)
}

// families is the list of the other signer families: adding a chain family
// is one entry here (and its package under signing/).
var families = []family{
	tronFamily,
	solFamily,
	xlmFamily,
	xrpFamily,
	algoFamily,
	egldFamily,
	vetFamily,
	adaFamily,
	flowFamily,
}

// NodeChains lists the chains that take a node URL (--rpc CHAIN=URL).
func NodeChains() []string {
	l := append([]string(nil), evm.Codes()...)
	for _, f := range families {
		if f.nodes {
			l = append(l, f.chains...)
		}
	}
	sort.Strings(l)
	return l
}

// Signers builds the signing.Set of one daemon: the UTXO family, the EVM
// family on the nodes of cfg.EVM (chains without a node use Tatum's RPC
// gateway with the API key), and the other families. Call close when done:
// it releases the nodes' connections.
func Signers(cfg SignerConfig) (set *signing.Set, close func(), err error) {
	if cfg.EVM.APIKey == "" {
		cfg.EVM.APIKey = cfg.APIKey
	}
	if cfg.EVM.HTTPClient == nil {
		cfg.EVM.HTTPClient = cfg.HTTPClient
	}
	for c := range cfg.Nodes {
		if !takesNode(c) {
			return nil, nil, fmt.Errorf("--%s: %s takes no node (chains with nodes: %s)", FlagRPC, c, strings.Join(NodeChains(), ", "))
		}
	}
	e, err := evm.New(cfg.EVM)
	if err != nil {
		return nil, nil, fmt.Errorf("--%s / %s<CHAIN>: %w", FlagRPC, EnvRPCPrefix, err)
	}
	closers := []func(){e.Close}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fams := []signing.Family{utxo.Family(), e.Family()}
	for _, f := range families {
		fam, c, err := f.build(cfg)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s signer: %w", strings.Join(f.chains, "/"), err)
		}
		if c != nil {
			closers = append(closers, c)
		}
		fams = append(fams, fam)
	}
	set, err = signing.NewSet(fams...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return set, closeAll, nil
}

func takesNode(code string) bool {
	for _, c := range NodeChains() {
		if c == code {
			return true
		}
	}
	return false
}

// Nodes collects node URLs: the environment first (TATUM_KMS_RPC_<CHAIN>),
// then the flag values (CHAIN=URL, from --rpc and --evm-rpc), which win for
// the chains they name. EVM chains' URLs go to evmRPC, the others' to
// nodes.
func Nodes(flagValues []string, getenv func(string) string) (evmRPC, nodes map[string]string, err error) {
	return collectNodes(FlagRPC, false, flagValues, getenv)
}

// EVMNodes is Nodes for EVM chains only (--evm-rpc).
func EVMNodes(flagValues []string, getenv func(string) string) (map[string]string, error) {
	rpc, _, err := collectNodes(FlagEVMRPC, true, flagValues, getenv)
	return rpc, err
}

func collectNodes(flag string, onlyEVM bool, flagValues []string, getenv func(string) string) (evmRPC, nodes map[string]string, err error) {
	evmRPC, nodes = map[string]string{}, map[string]string{}
	put := func(chain, u string) {
		if _, isEVM := evm.Lookup(chain); isEVM {
			evmRPC[chain] = u
		} else if !onlyEVM {
			nodes[chain] = u
		}
	}
	for _, code := range NodeChains() {
		if u := strings.TrimSpace(getenv(EnvRPCPrefix + code)); u != "" {
			put(code, u)
		}
	}
	fromFlag := map[string]bool{}
	for _, v := range flagValues {
		chain, u, ok := strings.Cut(strings.TrimSpace(v), "=")
		chain, u = strings.ToUpper(strings.TrimSpace(chain)), strings.TrimSpace(u)
		if !ok || !isChainCode(chain) || u == "" {
			return nil, nil, fmt.Errorf("--%s %q: want CHAIN=URL, e.g. ETH=https://node.example:8545", flag, RedactRPCArg(v))
		}
		if _, isEVM := evm.Lookup(chain); onlyEVM && !isEVM {
			return nil, nil, fmt.Errorf("--%s: %s is not an EVM chain gokms signs (%s); other chains' nodes go to --%s", flag, chain, strings.Join(evm.Codes(), ", "), FlagRPC)
		}
		if !takesNode(chain) {
			return nil, nil, fmt.Errorf("--%s: %s is not a chain gokms asks a node for (%s)", flag, chain, strings.Join(NodeChains(), ", "))
		}
		if fromFlag[chain] {
			return nil, nil, fmt.Errorf("--%s: %s given twice", flag, chain)
		}
		fromFlag[chain] = true
		put(chain, u)
	}
	return evmRPC, nodes, nil
}

// RedactRPCArg keeps an RPC URL's scheme and host for messages: its path or
// query may hold a provider key.
func RedactRPCArg(v string) string {
	chain, u, ok := strings.Cut(v, "=")
	if !ok || !isChainCode(strings.TrimSpace(chain)) {
		chain, u, ok = "", v, false
	}
	if p, err := url.Parse(strings.TrimSpace(u)); err == nil && p.Host != "" {
		u = p.Scheme + "://" + p.Host + "/…"
	} else {
		u = "…"
	}
	if !ok {
		return u
	}
	return chain + "=" + u
}

func isChainCode(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
