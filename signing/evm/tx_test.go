package evm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gokms/gokms/signing"
)

const testKeyHex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318" // web3.js docs' example key

// TestRefusals: each transaction must be refused before signing, with a
// message naming the problem, and without any node (offline signer).
func TestRefusals(t *testing.T) {
	key := keyFromHex(t, testKeyHex)
	addr := crypto.PubkeyToAddress(*key.PubKey().ToECDSA()).Hex()
	const to = `"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85"`
	const fees = `"gas":"21000","gasPrice":"1000000000","nonce":5`
	cases := []struct {
		name, chain string
		testnet     bool
		tx          string
		want        string
	}{
		{"not json", "ETH", false, `{"to":`, "not a JSON object"},
		{"json array", "ETH", false, `[1,2]`, "not a JSON object"},
		{"null", "ETH", false, `null`, "null"},
		{"trailing data", "ETH", false, `{` + to + `} {}`, "data after"},
		{"unknown field", "ETH", false, `{` + to + `,` + fees + `,"authorizationList":[]}`, "authorizationList"},
		{"celo field on ETH", "ETH", false, `{` + to + `,` + fees + `,"feeCurrency":"0x765de816845861e75a25fca122bb6898b8b1282a"}`, "feeCurrency"},
		{"from is another address", "ETH", false, `{` + to + `,` + fees + `,"from":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85"}`, "is not the address of the signing key"},
		{"from unparsable", "ETH", false, `{` + to + `,` + fees + `,"from":"me"}`, "not a ETH address"},
		{"bad checksum", "ETH", false, `{"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc86",` + fees + `}`, "EIP-55 checksum"},
		{"bad checksum case", "ETH", false, `{"to":"0x687422EEA2cB73B5d3e242bA5456b782919AFc85",` + fees + `}`, "EIP-55 checksum"},
		{"short to", "ETH", false, `{"to":"0x687422eEA2cB73B5d3e242bA5456b782919AFc",` + fees + `}`, "not a ETH address"},
		{"xdc on ETH", "ETH", false, `{"to":"xdc687422eEA2cB73B5d3e242bA5456b782919AFc85",` + fees + `}`, "not a ETH address"},
		{"one1 on XDC", "XDC", false, `{"to":"one1dp6z9m4zedemt5lzg2a9g44hs2ge4ly95l3p53",` + fees + `}`, "not a XDC address"},
		{"bad bech32", "ONE", false, `{"to":"one1dp6z9m4zedemt5lzg2a9g44hs2ge4ly95l3p54",` + fees + `}`, "bech32"},
		{"negative value string", "ETH", false, `{` + to + `,` + fees + `,"value":"-1"}`, "negative"},
		{"negative value number", "ETH", false, `{` + to + `,` + fees + `,"value":-1}`, "negative"},
		{"value fraction", "ETH", false, `{` + to + `,` + fees + `,"value":1.5}`, "fractions"},
		{"value exponent", "ETH", false, `{` + to + `,` + fees + `,"value":1e21}`, "exponents"},
		{"value unsafe number", "ETH", false, `{` + to + `,` + fees + `,"value":9007199254740993}`, "lost precision"},
		{"value not a number", "ETH", false, `{` + to + `,` + fees + `,"value":"1 ETH"}`, "not a decimal"},
		{"value bad hex", "ETH", false, `{` + to + `,` + fees + `,"value":"0xzz"}`, "not a hex number"},
		{"value overflow", "ETH", false, `{` + to + `,` + fees + `,"value":"0x1` + strings.Repeat("0", 64) + `"}`, "256 bits"},
		{"value bool", "ETH", false, `{` + to + `,` + fees + `,"value":true}`, "want a number"},
		{"nonce overflow", "ETH", false, `{` + to + `,"gas":"21000","gasPrice":"1","nonce":"18446744073709551616"}`, "64 bits"},
		{"nonce max", "ETH", false, `{` + to + `,"gas":"21000","gasPrice":"1","nonce":"0xffffffffffffffff"}`, "out of range"},
		{"gas overflow", "ETH", false, `{` + to + `,"gas":"0x10000000000000000","gasPrice":"1","nonce":1}`, "64 bits"},
		{"gas and gasLimit disagree", "ETH", false, `{` + to + `,"gas":"21000","gasLimit":"22000","gasPrice":"1","nonce":1}`, "disagree"},
		{"absurd gas", "ETH", false, `{` + to + `,"gas":"100000000","gasPrice":"1","nonce":1}`, "absurd gas"},
		{"absurd gas BSC", "BSC", false, `{` + to + `,"gas":"30000001","gasPrice":"1","nonce":1}`, "absurd gas"},
		{"gas below intrinsic", "ETH", false, `{` + to + `,"gas":"20000","gasPrice":"1","nonce":1}`, "below"},
		{"absurd fee", "ETH", false, `{` + to + `,"gas":"21000","gasPrice":"10000000000000000","nonce":1}`, "absurd fee"},
		{"data not hex", "ETH", false, `{` + to + `,` + fees + `,"data":"0xabc"}`, "not hex"},
		{"data without 0x", "ETH", false, `{` + to + `,` + fees + `,"data":"abcd"}`, "0x-prefixed"},
		{"data number", "ETH", false, `{` + to + `,` + fees + `,"data":12}`, "0x-hex string"},
		{"data and input disagree", "ETH", false, `{` + to + `,` + fees + `,"data":"0x01","input":"0x02"}`, "disagree"},
		{"creation without code", "ETH", false, `{` + fees + `,"value":"1"}`, "neither"},
		{"chainId of mainnet on testnet", "ETH", true, `{` + to + `,` + fees + `,"chainId":1}`, "contradicts"},
		{"chainId of BSC on ETH", "ETH", false, `{` + to + `,` + fees + `,"chainId":"0x38"}`, "contradicts"},
		{"chainId of Alfajores on CELO testnet", "CELO", true, `{` + to + `,` + fees + `,"chainId":44787}`, "contradicts"},
		{"gasPrice and fee caps", "ETH", false, `{` + to + `,` + fees + `,"maxFeePerGas":"2"}`, "both"},
		{"type 0 with caps", "ETH", false, `{` + to + `,"gas":"21000","nonce":1,"type":0,"maxFeePerGas":"2"}`, "type` 0"},
		{"type 2 with gasPrice", "ETH", false, `{` + to + `,` + fees + `,"type":"0x2"}`, "type` 2"},
		{"type 1", "ETH", false, `{` + to + `,` + fees + `,"type":1}`, "not supported"},
		{"type 4", "ETH", false, `{` + to + `,` + fees + `,"type":"0x4"}`, "not supported"},
		{"access list", "ETH", false, `{` + to + `,` + fees + `,"accessList":[{"address":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85","storageKeys":[]}]}`, "accessList"},
		{"tip above cap", "ETH", false, `{` + to + `,"gas":"21000","nonce":1,"maxFeePerGas":"10","maxPriorityFeePerGas":"11"}`, "above `maxFeePerGas`"},
		{"fee caps on ONE", "ONE", false, `{` + to + `,"gas":"21000","nonce":1,"maxFeePerGas":"10","maxPriorityFeePerGas":"1"}`, "legacy"},
		{"type 2 on KLAY", "KLAY", false, `{` + to + `,"gas":"21000","nonce":1,"type":2}`, "legacy"},
		{"celo feeCurrency", "CELO", false, `{` + to + `,` + fees + `,"feeCurrency":"0x765de816845861e75a25fca122bb6898b8b1282a"}`, "CIP-64"},
		{"celo gateway fee", "CELO", false, `{` + to + `,` + fees + `,"gatewayFee":"1000","gatewayFeeRecipient":"0x687422eEA2cB73B5d3e242bA5456b782919AFc85"}`, "gateway"},
		{"celo gateway fee only", "CELO", false, `{` + to + `,` + fees + `,"gatewayFee":"0x10"}`, "gatewayFee"},
		{"celo bad feeCurrency", "CELO", false, `{` + to + `,` + fees + `,"feeCurrency":"cUSD"}`, "feeCurrency"},
		{"needs node, none configured", "ETH", false, `{` + to + `,"value":"1"}`, "no JSON-RPC node configured"},
	}
	s := offline(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := signing.Request{ID: "p1", Chain: c.chain, Testnet: c.testnet, SerializedTransaction: c.tx, Hashes: []string{"k"}}
			raw, err := s.Sign(context.Background(), req, staticKeys{"k": key})
			if err == nil {
				t.Fatalf("signed %s, want refusal containing %q", raw, c.want)
			}
			if raw != "" {
				t.Fatalf("returned %q with an error", raw)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
			if !strings.Contains(err.Error(), "transaction p1") {
				t.Errorf("error %q does not name the pending transaction", err)
			}
			if strings.Contains(strings.ToLower(err.Error()), testKeyHex) {
				t.Fatal("error contains the private key")
			}
		})
	}
	_ = addr
}

// TestAccepted: inputs tatum-kms and web3 accept that the refusals above
// must not catch (all fields given, so no node is needed).
func TestAccepted(t *testing.T) {
	key := keyFromHex(t, testKeyHex)
	addr := crypto.PubkeyToAddress(*key.PubKey().ToECDSA())
	const to = `"to":"0x687422eea2cb73b5d3e242ba5456b782919afc85"`
	const fees = `"gas":"21000","gasPrice":"1000000000","nonce":5`
	cases := []struct{ name, chain, tx string }{
		{"from matches (checksummed)", "ETH", `{` + to + `,` + fees + `,"from":"` + addr.Hex() + `"}`},
		{"from matches (lower case)", "ETH", `{` + to + `,` + fees + `,"from":"` + strings.ToLower(addr.Hex()) + `"}`},
		{"from 0 string", "ETH", `{` + to + `,` + fees + `,"from":"0"}`},
		{"from null", "ETH", `{` + to + `,` + fees + `,"from":null}`},
		{"to upper case hex", "ETH", `{"to":"0x687422EEA2CB73B5D3E242BA5456B782919AFC85",` + fees + `}`},
		{"xdc to and from", "XDC", `{"to":"xdc687422eEA2cB73B5d3e242bA5456b782919AFc85",` + fees + `,"from":"xdc` + addr.Hex()[2:] + `"}`},
		{"one1 from", "ONE", `{` + to + `,` + fees + `,"from":"` + FormatAddress("ONE", addr) + `"}`},
		{"null value and data", "ETH", `{` + to + `,` + fees + `,"value":null,"data":null}`},
		{"empty data", "ETH", `{` + to + `,` + fees + `,"data":"","value":""}`},
		{"data 0x", "ETH", `{` + to + `,` + fees + `,"data":"0x"}`},
		{"input alias", "ETH", `{` + to + `,"gas":"30000","gasPrice":"1","nonce":1,"input":"0xa9059cbb"}`},
		{"empty access list", "ETH", `{` + to + `,` + fees + `,"accessList":[]}`},
		{"type 0", "ETH", `{` + to + `,` + fees + `,"type":"0x0"}`},
		{"celo empty fee currency", "CELO", `{` + to + `,` + fees + `,"feeCurrency":null,"gatewayFee":"0","gatewayFeeRecipient":""}`},
		{"celo zero fee currency", "CELO", `{` + to + `,` + fees + `,"feeCurrency":"0x0000000000000000000000000000000000000000"}`},
		{"hex upper prefix", "ETH", `{` + to + `,"gas":"0X5208","gasPrice":"0X1","nonce":"0X5"}`},
	}
	s := offline(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := signing.Request{ID: "p1", Chain: c.chain, SerializedTransaction: c.tx, Hashes: []string{"k"}}
			raw, err := s.Sign(context.Background(), req, staticKeys{"k": key})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, "0x") {
				t.Fatalf("raw %q is not 0x-hex", raw)
			}
		})
	}
}

// TestKeyRef: which signatureId and index sign, as tatum-kms picks them.
func TestKeyRef(t *testing.T) {
	i3, i7 := uint32(3), uint32(7)
	cases := []struct {
		req     signing.Request
		id      string
		idx     *uint32
		wantErr string
	}{
		{signing.Request{Hashes: []string{"a"}}, "a", nil, ""},
		{signing.Request{Hashes: []string{"m"}, Index: &i3}, "m", &i3, ""},
		{signing.Request{Hashes: []string{"a", "a"}}, "a", nil, ""},
		{signing.Request{Hashes: []string{"a", "b"}}, "", nil, "one key"},
		{signing.Request{Signatures: []signing.SignatureRef{{ID: "m", Index: &i7}}}, "m", &i7, ""},
		{signing.Request{Signatures: []signing.SignatureRef{{ID: "m", Index: &i7}}, Index: &i3}, "m", &i3, ""},
		{signing.Request{}, "", nil, "no signatureId"},
	}
	for i, c := range cases {
		id, idx, err := keyRef(c.req)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%d: err %v, want %q", i, err, c.wantErr)
			}
			continue
		}
		if err != nil || id != c.id || (idx == nil) != (c.idx == nil) || (idx != nil && *idx != *c.idx) {
			t.Errorf("%d: got %s %v %v", i, id, idx, err)
		}
	}
}

type failingKeys struct{}

func (failingKeys) Key(context.Context, string, *uint32) (*btcec.PrivateKey, error) {
	return nil, errors.New("wallet locked")
}

func TestKeySourceError(t *testing.T) {
	_, err := offline(t).Sign(context.Background(), signing.Request{ID: "p9", Chain: "BSC", Hashes: []string{"sig-1"},
		SerializedTransaction: `{"to":"0x687422eea2cb73b5d3e242ba5456b782919afc85","gas":"21000","gasPrice":"1","nonce":1}`}, failingKeys{})
	if err == nil || !strings.Contains(err.Error(), "wallet locked") || !strings.Contains(err.Error(), "sig-1") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnsupportedChain(t *testing.T) {
	_, err := offline(t).Sign(context.Background(), signing.Request{Chain: "BTC"}, failingKeys{})
	if !errors.Is(err, signing.ErrUnsupportedChain) {
		t.Fatalf("err = %v", err)
	}
}

// TestFamily: one Signer serves every chain of the table through a Set,
// and two Signers (two configurations) do not share one.
func TestFamily(t *testing.T) {
	a, b := offline(t), offline(t)
	set, err := signing.NewSet(a.Family())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Chains() {
		s, err := set.For(c.Code)
		if err != nil || s != a || s == signing.Signer(b) {
			t.Errorf("%s: %v %v", c.Code, s, err)
		}
	}
	if _, err := signing.NewSet(a.Family(), b.Family()); err == nil {
		t.Error("two EVM families in one Set were accepted")
	}
	if _, err := set.For("BTC"); !errors.Is(err, signing.ErrUnsupportedChain) {
		t.Errorf("BTC in an EVM-only Set: %v", err)
	}
}

func TestConfigure(t *testing.T) {
	bad := []struct {
		rpc  map[string]string
		want string
	}{
		{map[string]string{"BTC": "http://127.0.0.1:1"}, "not an EVM chain"},
		{map[string]string{"ETH": "127.0.0.1:8545"}, "not an absolute URL"},
		{map[string]string{"ETH": "ftp://h/x"}, "scheme"},
		{map[string]string{"eth": "http://a", "ETH": "http://b"}, "twice"},
	}
	for _, b := range bad {
		if _, err := New(Config{RPC: b.rpc}); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%v: err %v, want %q", b.rpc, err, b.want)
		}
	}
	s, err := New(Config{APIKey: "k", RPC: map[string]string{"bsc": "https://my.node.example/v3/secretpath", "kcs": "https://kcs-mainnet.gateway.tatum.io"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code    string
		testnet bool
		url     string
		withKey bool
	}{
		{"ETH", false, "https://ethereum-mainnet.gateway.tatum.io", true},
		{"ETH", true, "https://ethereum-sepolia.gateway.tatum.io", true},
		{"MATIC", true, "https://polygon-amoy.gateway.tatum.io", true},
		{"BSC", true, "https://my.node.example/v3/secretpath", false}, // never send the Tatum key elsewhere
		{"KCS", false, "https://kcs-mainnet.gateway.tatum.io", true},
	} {
		u, k, err := s.RPCURL(c.code, c.testnet)
		if err != nil || u != c.url || k != c.withKey {
			t.Errorf("%s testnet=%v: %s %v %v", c.code, c.testnet, u, k, err)
		}
	}
	if _, _, err := offline(t).RPCURL("ETH", false); !errors.Is(err, errNoRPC) {
		t.Errorf("no key, no URL: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	n := &node{chain: chainByCode["ETH"], url: "https://mainnet.infura.io/v3/0123secret", apiKey: "tatumkey", shown: redactURL("https://mainnet.infura.io/v3/0123secret")}
	err := n.wrap("eth_chainId", errors.New(`Post "https://mainnet.infura.io/v3/0123secret": 401 tatumkey`))
	if strings.Contains(err.Error(), "0123secret") || strings.Contains(err.Error(), "tatumkey") {
		t.Fatalf("secret in %q", err)
	}
	if !strings.Contains(err.Error(), "https://mainnet.infura.io") {
		t.Fatalf("host missing from %q", err)
	}
}
