package evm

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/gokms/gokms/signing"
)

// TestDecode: native transfers, the three ERC-20 calls, deployment and
// unknown calldata, each signed offline and decoded from the signed bytes.
func TestDecode(t *testing.T) {
	key := keyFromHex(t, testKeyHex)
	sender := crypto.PubkeyToAddress(*key.PubKey().ToECDSA())
	token := common.HexToAddress("0x687422eea2cb73b5d3e242ba5456b782919afc85")
	rcpt := common.HexToAddress("0x1111111111111111111111111111111111111111")
	word := func(b []byte) string { return common.Bytes2Hex(common.LeftPadBytes(b, 32)) }
	transfer := "0xa9059cbb" + word(rcpt.Bytes()) + word(big.NewInt(500).Bytes())
	fees := `"gas":"60000","gasPrice":"2000000000","nonce":5`
	cases := []struct {
		name, tx, method string
		outs             int
		unknown          bool
	}{
		{"native", `{"to":"` + rcpt.Hex() + `","value":"1000",` + fees + `}`, signing.MethodTransfer, 1, false},
		{"erc20 transfer", `{"to":"` + token.Hex() + `","data":"` + transfer + `",` + fees + `}`, signing.MethodERC20Transfer, 1, false},
		{"erc20 approve", `{"to":"` + token.Hex() + `","data":"0x095ea7b3` + word(rcpt.Bytes()) + word(big.NewInt(7).Bytes()) + `",` + fees + `}`, signing.MethodERC20Approve, 1, false},
		{"erc20 transferFrom", `{"to":"` + token.Hex() + `","data":"0x23b872dd` + word(sender.Bytes()) + word(rcpt.Bytes()) + word(big.NewInt(9).Bytes()) + `",` + fees + `}`, signing.MethodERC20TransferFrom, 1, false},
		{"transfer with extra bytes", `{"to":"` + token.Hex() + `","data":"` + transfer + `00",` + fees + `}`, signing.MethodCall, 0, true},
		{"transfer dirty address word", `{"to":"` + token.Hex() + `","data":"0xa9059cbb01` + word(rcpt.Bytes())[2:] + word(big.NewInt(500).Bytes()) + `",` + fees + `}`, signing.MethodCall, 0, true},
		{"unknown selector", `{"to":"` + token.Hex() + `","data":"0xdeadbeef",` + fees + `}`, signing.MethodCall, 0, true},
		{"deploy", `{"data":"0x6080604052",` + fees + `}`, signing.MethodDeploy, 0, false},
	}
	s := offline(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := s.Sign(context.Background(), signing.Request{ID: "p", Chain: "ETH", Testnet: true, SerializedTransaction: c.tx, Hashes: []string{"k"}}, staticKeys{"k": key})
			if err != nil {
				t.Fatal(err)
			}
			v, err := Decode("ETH", true, c.tx, raw)
			if err != nil {
				t.Fatal(err)
			}
			if v.Method != c.method || len(v.Outputs) != c.outs || (len(v.Unknown) > 0) != c.unknown || !v.Signed {
				t.Fatalf("view %+v", v)
			}
			if v.Fee.Cmp(big.NewInt(60000*2000000000)) != 0 || v.Inputs[0].Address != sender.Hex() {
				t.Fatalf("fee %v inputs %+v", v.Fee, v.Inputs)
			}
			if c.method == signing.MethodERC20Transfer {
				o := v.Outputs[0]
				if o.Address != rcpt.Hex() || o.Amount.Int64() != 500 || o.Token != token.Hex() || v.Token != token.Hex() {
					t.Fatalf("transfer output %+v", o)
				}
			}
			// The unsigned decode agrees, fee included (given in full).
			u, err := Decode("ETH", true, c.tx, "")
			if err != nil || u.Method != v.Method || u.Fee.Cmp(v.Fee) != 0 {
				t.Fatalf("unsigned %+v, %v", u, err)
			}
		})
	}
}

// TestDecodeMismatch: signed bytes that pay elsewhere than the pending
// transaction asks, or for another chain id, are refused.
func TestDecodeMismatch(t *testing.T) {
	key := keyFromHex(t, testKeyHex)
	s := offline(t)
	a := `{"to":"0x1111111111111111111111111111111111111111","value":"1","gas":"21000","gasPrice":"1","nonce":1}`
	b := strings.Replace(a, "0x1111", "0x2222", 1)
	raw, err := s.Sign(context.Background(), signing.Request{Chain: "ETH", Testnet: true, SerializedTransaction: a, Hashes: []string{"k"}}, staticKeys{"k": key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode("ETH", true, b, raw); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := Decode("ETH", false, a, raw); err == nil || !strings.Contains(err.Error(), "chain id") {
		t.Fatalf("chain id: %v", err)
	}
	// Unsigned without gas price: fee unknown.
	v, err := Decode("ETH", true, `{"to":"0x1111111111111111111111111111111111111111","value":"1"}`, "")
	if err != nil || v.Fee != nil {
		t.Fatalf("%+v %v", v, err)
	}
}
