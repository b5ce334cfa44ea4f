package sol

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
)

type lamportMove struct {
	to     string
	amount uint64
}

// askedTransfers walks the pending transaction's message by hand (not with
// ParseMessage): every System Program transfer's recipient and lamports.
// The vectors' messages have fewer than 128 keys and instructions, so each
// length is one byte.
func askedTransfers(t *testing.T, ser string) (nsig int, out []lamportMove) {
	t.Helper()
	var p struct{ TxData string }
	if err := json.Unmarshal([]byte(ser), &p); err != nil {
		t.Fatal(err)
	}
	b, _ := hex.DecodeString(p.TxData)
	nsig, nkeys := int(b[0]), int(b[3])
	keys := b[4 : 4+32*nkeys]
	i := 4 + 32*nkeys + 32
	nix := int(b[i])
	i++
	for ; nix > 0; nix-- {
		prog := keys[32*int(b[i]) : 32*int(b[i])+32]
		na := int(b[i+1])
		accts := b[i+2 : i+2+na]
		i += 2 + na
		nd := int(b[i])
		data := b[i+1 : i+1+nd]
		i += 1 + nd
		if string(prog) == string(make([]byte, 32)) && nd == 12 && binary.LittleEndian.Uint32(data) == 2 {
			to := keys[32*int(accts[1]) : 32*int(accts[1])+32]
			out = append(out, lamportMove{base58.Encode(to), binary.LittleEndian.Uint64(data[4:])})
		}
	}
	return nsig, out
}

func journal(v vector) string {
	b, _ := json.Marshal(map[string]any{"transaction": v.Wire, "lastValidBlockHeight": v.LastValidBlockHeight})
	return string(b)
}

// Every committed web3.js vector's signed wire transaction, journaled as
// the signer journals it, decodes to the transfers its pending transaction
// asked for; before signing the pending message decodes the same.
func TestDecodeViewVectors(t *testing.T) {
	for _, vec := range loadVectors(t).Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			v, err := DecodeView("SOL", false, vec.Pending.SerializedTransaction, journal(vec))
			if err != nil {
				t.Fatal(err)
			}
			u, err := DecodeView("SOL", false, vec.Pending.SerializedTransaction, "")
			if err != nil {
				t.Fatal(err)
			}
			nsig, asked := askedTransfers(t, vec.Pending.SerializedTransaction)
			if !v.Signed || v.TxID != vec.TxID || v.Fee.Int64() != int64(5000*nsig) || u.Signed {
				t.Errorf("signed %v txid %s fee %v", v.Signed, v.TxID, v.Fee)
			}
			var native []lamportMove
			for _, o := range v.Outputs {
				if o.Token == "" {
					native = append(native, lamportMove{o.Address, o.Amount.Uint64()})
				}
			}
			kind := vec.Kind
			if kind == "reordered" && len(asked) == 0 {
				kind = "spl" // the reordered vectors alternate SOL and SPL transfers
			}
			switch kind {
			case "deploy":
				// createAccount funds the mint; initializeMint is Unknown.
				if v.Complete() || len(v.Outputs) == 0 {
					t.Errorf("deploy: %+v", v)
				}
				return
			case "spl":
				// An SPL transfer that names its mint (transferChecked, or the
				// recipient's associated account created alongside) is
				// complete; a plain transfer to an existing token account
				// (Token: the source token account) is Unknown.
				mintless := len(v.Unknown) == 1 && strings.Contains(v.Unknown[0], "does not name the mint") && strings.Contains(v.Unknown[0], v.Outputs[0].Token)
				if (!v.Complete() && !mintless) || len(v.Outputs) != 1 || v.Outputs[0].Token == "" || v.Outputs[0].Amount.Sign() <= 0 {
					t.Errorf("spl: %+v", v)
				}
				if n := v.Sent()[""]; n != nil && n.Sign() != 0 {
					t.Errorf("spl moves no SOL, view sends %v", v.Sent()[""])
				}
				return
			}
			if fmt.Sprint(native) != fmt.Sprint(asked) || len(asked) == 0 || !v.Complete() {
				t.Errorf("transfers %v, asked %v (unknown %v)", native, asked, v.Unknown)
			}
			if fmt.Sprint(u.Outputs) != fmt.Sprint(v.Outputs) {
				t.Errorf("before signing %v, after %v", u.Outputs, v.Outputs)
			}
			if v.Inputs[0].Address != vec.Addresses[0] && (len(vec.Addresses) < 2 || v.Inputs[0].Address != vec.Addresses[1]) {
				t.Errorf("inputs %v", v.Inputs)
			}
		})
	}
}

// Changing a signed transaction's recipient or lamports breaks its
// signature: the view is refused, never a view of other bytes.
func TestDecodeViewTampered(t *testing.T) {
	var vec vector
	for _, v := range loadVectors(t).Vectors {
		if v.Kind == "native" {
			vec = v
			break
		}
	}
	wire, _ := base64.StdEncoding.DecodeString(vec.Wire)
	for name, at := range map[string]int{"lamports": len(wire) - 8, "recipient": 1 + 64 + 3 + 1 + 32 + 5} {
		w := append([]byte(nil), wire...)
		w[at] ^= 1
		vec2 := vec
		vec2.Wire = base64.StdEncoding.EncodeToString(w)
		if v, err := DecodeView("SOL", false, "", journal(vec2)); err == nil || !strings.Contains(err.Error(), "signature") {
			t.Errorf("%s changed: %+v, %v", name, v, err)
		}
	}
}

func TestDecodeViewMalformed(t *testing.T) {
	vec := loadVectors(t).Vectors[0]
	wire, _ := base64.StdEncoding.DecodeString(vec.Wire)
	short := vec
	short.Wire = base64.StdEncoding.EncodeToString(wire[:len(wire)-3])
	for _, s := range []string{`{"transaction":"AA==","lastValidBlockHeight":1}`, `{}`, vec.Wire, journal(short), `{"transaction":"` + vec.Wire + `","x":1}`} {
		if _, err := DecodeView("SOL", false, "", s); err == nil {
			t.Errorf("%.50q decoded", s)
		}
	}
	for _, s := range []string{"", `{"txData":"zz"}`, `{"txData":"0100"}`} {
		if _, err := DecodeView("SOL", false, s, ""); err == nil {
			t.Errorf("pending %q decoded", s)
		}
	}
}

func FuzzDecodeView(f *testing.F) {
	for _, v := range loadVectors(f).Vectors[:10] {
		f.Add(journal(v), v.Pending.SerializedTransaction)
	}
	f.Fuzz(func(t *testing.T, signed, ser string) {
		_, _ = DecodeView("SOL", false, ser, signed)
		_, _ = DecodeView("SOL", false, ser, "")
	})
}
