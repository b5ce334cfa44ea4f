package policy

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// signedVector is one committed npm vector of an account chain: what its
// pending transaction asks (read from the vector JSON here, not through the
// chain's decoder) and the bytes the chain's signer journals.
type signedVector struct {
	name, serialized, signed string
	dest                     string
	amount                   *big.Int
}

func readVectors(t *testing.T, chain string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", chain, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}

func tronVectors(t *testing.T) []signedVector {
	var f struct {
		Transactions []struct{ Kind, Name, SerializedTransaction, TxData string }
	}
	readVectors(t, "tron", &f)
	var out []signedVector
	for _, v := range f.Transactions {
		if v.Kind != "native" {
			continue
		}
		var tx struct {
			RawData struct {
				Contract []struct {
					Parameter struct {
						Value struct {
							To     string `json:"to_address"`
							Amount int64
						}
					}
				}
			} `json:"raw_data"`
		}
		if err := json.Unmarshal([]byte(v.SerializedTransaction), &tx); err != nil {
			t.Fatal(err)
		}
		val := tx.RawData.Contract[0].Parameter.Value
		to, _ := hex.DecodeString(val.To)
		out = append(out, signedVector{v.Name, v.SerializedTransaction, v.TxData, base58.CheckEncode(to[1:], to[0]), big.NewInt(val.Amount)})
	}
	return out
}

func xrpVectors(t *testing.T) []signedVector {
	var f struct {
		Transactions []struct{ Kind, Name, SerializedTransaction, TxBlob string }
	}
	readVectors(t, "xrp", &f)
	var out []signedVector
	for _, v := range f.Transactions {
		if v.Kind != "native" {
			continue
		}
		var tx struct{ Destination, Amount string }
		if err := json.Unmarshal([]byte(v.SerializedTransaction), &tx); err != nil {
			t.Fatal(err)
		}
		a, _ := new(big.Int).SetString(tx.Amount, 10)
		out = append(out, signedVector{v.Name, v.SerializedTransaction, v.TxBlob, tx.Destination, a})
	}
	return out
}

// solVectors: the single-transfer vectors; the message is walked by hand
// (one-byte lengths: the vectors have few keys).
func solVectors(t *testing.T) []signedVector {
	var f struct {
		Vectors []struct {
			Kind, Name, Wire     string
			LastValidBlockHeight uint64
			Pending              struct{ SerializedTransaction string }
		}
	}
	readVectors(t, "sol", &f)
	var out []signedVector
	for _, v := range f.Vectors {
		if v.Kind != "native" {
			continue
		}
		var p struct{ TxData string }
		_ = json.Unmarshal([]byte(v.Pending.SerializedTransaction), &p)
		b, _ := hex.DecodeString(p.TxData)
		nkeys := int(b[3])
		i := 4 + 32*nkeys + 32
		if b[i] != 1 {
			t.Fatalf("%s: %d instructions", v.Name, b[i])
		}
		accts := b[i+3 : i+3+int(b[i+2])]
		data := b[i+3+len(accts)+1:]
		if len(data) != 12 || binary.LittleEndian.Uint32(data) != 2 {
			t.Fatalf("%s: not a system transfer", v.Name)
		}
		to := b[4+32*int(accts[1]) : 4+32*int(accts[1])+32]
		signed, _ := json.Marshal(map[string]any{"transaction": v.Wire, "lastValidBlockHeight": v.LastValidBlockHeight})
		out = append(out, signedVector{v.Name, v.Pending.SerializedTransaction, string(signed), base58.Encode(to),
			new(big.Int).SetUint64(binary.LittleEndian.Uint64(data[4:]))})
	}
	return out
}

// TestAccountChainPolicy: for TRON, SOL and XRP, a policy listing
// destinations and a maxAmount allows a committed vector's signed
// transaction and refuses signed transactions to another destination or of
// a larger amount, judged on the decoded signed bytes (and, before signing,
// on the pending transaction). The allowed destinations and the limit come
// from the vector JSON, so a decoder that dropped or misread the recipient
// or the amount fails here.
func TestAccountChainPolicy(t *testing.T) {
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for chain, load := range map[string]func(*testing.T) []signedVector{"TRON": tronVectors, "SOL": solVectors, "XRP": xrpVectors} {
		t.Run(chain, func(t *testing.T) {
			vs := load(t)
			if len(vs) < 3 {
				t.Fatalf("%d vectors", len(vs))
			}
			// small: the least amount (the limit); larger: more, to an
			// allowed destination; elsewhere: to a destination not listed.
			small := vs[0]
			for _, v := range vs {
				if v.amount.Cmp(small.amount) < 0 {
					small = v
				}
			}
			var larger, elsewhere *signedVector
			for i := range vs {
				if v := &vs[i]; larger == nil && v.amount.Cmp(small.amount) > 0 {
					larger = v
				}
			}
			for i := range vs {
				if v := &vs[i]; elsewhere == nil && v.dest != small.dest && v.dest != larger.dest {
					elsewhere = v
				}
			}
			if larger == nil || elsewhere == nil {
				t.Fatal("the vectors do not vary enough")
			}
			pol := fmt.Sprintf("version: 1\nchains:\n  %s:\n    destinations: [%q, %q]\n    maxAmount: %q\n", chain, small.dest, larger.dest, small.amount.String())
			f, err := Parse([]byte(pol))
			if err != nil {
				t.Fatal(err)
			}
			p, err := New(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range []struct {
				name string
				v    signedVector
				rule string
			}{
				{"allowed " + small.name, small, ""},
				{"other destination " + elsewhere.name, *elsewhere, "chains." + chain + ".destinations"},
				{"larger amount " + larger.name, *larger, "chains." + chain + ".maxAmount"},
			} {
				for _, stage := range []string{"request", "signed"} {
					signed, opt := c.v.signed, Options{}
					if stage == "request" {
						signed, opt = "", Options{DryRun: true, FeeLater: true}
					}
					v, derr := Decode(chain, false, c.v.serialized, signed)
					if derr != nil {
						t.Fatalf("%s %s: %v", c.name, stage, derr)
					}
					d := p.Evaluate(context.Background(), Input{ID: fmt.Sprint(chain, i, stage), Chain: chain, View: v, Now: noon}, opt)
					if c.rule == "" && !d.Allowed {
						t.Errorf("%s (%s): refused %+v", c.name, stage, d)
					}
					if c.rule != "" && (d.Allowed || d.Rule != c.rule) {
						t.Errorf("%s (%s): %+v, want refused by %s", c.name, stage, d, c.rule)
					}
				}
			}
		})
	}
}

// TestAccountChainTRC20Tokens: every committed TRC-20 vector, read from
// the vector JSON here (contract, recipient and amount from the call
// data, not through the chain's decoder), against a policy that lists its
// contract with maxAmount its amount and destinations its recipient: it
// passes, before and after signing; with maxAmount one less, another
// contract listed, another recipient, or no token list, it is refused.
func TestAccountChainTRC20Tokens(t *testing.T) {
	var f struct {
		Transactions []struct{ Kind, Name, SerializedTransaction, TxData string }
	}
	readVectors(t, "tron", &f)
	n := 0
	for _, vec := range f.Transactions {
		if vec.Kind != "trc20" {
			continue
		}
		n++
		var tx struct {
			RawData struct {
				Contract []struct {
					Parameter struct {
						Value struct {
							Contract string `json:"contract_address"`
							Data     string
						}
					}
				}
			} `json:"raw_data"`
		}
		if err := json.Unmarshal([]byte(vec.SerializedTransaction), &tx); err != nil {
			t.Fatal(err)
		}
		val := tx.RawData.Contract[0].Parameter.Value
		c, _ := hex.DecodeString(val.Contract)
		d, _ := hex.DecodeString(val.Data)
		if len(c) != 21 || len(d) != 68 {
			t.Fatalf("%s: contract %x data %x", vec.Name, c, d)
		}
		contract := base58.CheckEncode(c[1:], c[0])
		rcpt := base58.CheckEncode(d[16:36], 0x41)
		amt := new(big.Int).SetBytes(d[36:])
		other := base58.CheckEncode(bytes.Repeat([]byte{0x11}, 20), 0x41)
		elsewhere := base58.CheckEncode(bytes.Repeat([]byte{0x22}, 20), 0x41)
		less := new(big.Int).Sub(amt, big.NewInt(1))
		for pol, rule := range map[string]string{
			fmt.Sprintf("destinations: [%q]\n    tokens: [{token: %q, maxAmount: %q}]", rcpt, contract, amt.String()):  "",
			fmt.Sprintf("destinations: [%q]\n    tokens: [{token: %q, maxAmount: %q}]", rcpt, contract, less.String()): "chains.TRON.tokens[" + contract + "].maxAmount",
			fmt.Sprintf("destinations: [%q]\n    tokens: [{token: %q}]", rcpt, other):                                  "chains.TRON.tokens",
			fmt.Sprintf("destinations: [%q]\n    tokens: [{token: %q}]", elsewhere, contract):                          "chains.TRON.destinations",
			"maxAmount: 1": "tokens",
		} {
			pf, err := Parse([]byte("version: 1\nchains:\n  TRON:\n    " + pol + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			p, _ := New(pf, nil)
			for _, signed := range []string{"", vec.TxData} {
				v, err := Decode("TRON", false, vec.SerializedTransaction, signed)
				if err != nil {
					t.Fatal(err)
				}
				d := p.Evaluate(context.Background(), Input{ID: vec.Name, Chain: "TRON", View: v, Now: time.Now()}, Options{DryRun: signed == "", FeeLater: signed == ""})
				if (rule == "") != d.Allowed || (rule != "" && d.Rule != rule) {
					t.Errorf("%s %q (signed %v): %+v, want %q", vec.Name, pol, signed != "", d, rule)
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("%d TRC-20 vectors", n)
	}
}
