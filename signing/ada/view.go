package ada

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/fxamacker/cbor/v2"
	"golang.org/x/crypto/blake2b"

	"github.com/gokms/gokms/signing"
)

// ViewFamily is the signing.View family of Cardano transactions.
const ViewFamily = "ada"

// DecodeView decodes the signed transaction the Signer returns (Signed.Raw:
// construction/combine's signed_transaction, the txData of
// /v3/ada/broadcast: hex(cbor([transaction hex, extra data]))) into a
// signing.View for policy and audit. The body is read from the signed
// transaction (the extra data is not trusted): its outputs (address,
// lovelace), fee and inputs; every vkey witness must be a valid signature
// of the body hash. Input addresses and amounts are not in the body: they
// come from the pending transaction's operations for the coins the body
// spends (a coin the operations do not name is Unknown). An output to one
// of the input addresses is change. Without signed (before signing), the
// operations are read as the signer reads them.
//
// Body fields other than inputs, outputs, fee, ttl and validity start
// (certificates, withdrawals, minting, metadata, scripts), outputs with
// native tokens or datums, and witnesses other than vkeys are Unknown.
// Fee: the body's fee in lovelace.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "ADA") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	pl, perr := parse(serialized, Params{Testnet: testnet, MaxFee: ^uint64(0)})
	v := &signing.View{Chain: "ADA", Family: ViewFamily, Method: signing.MethodTransfer}
	own := map[string]bool{}
	if strings.TrimSpace(signed) == "" {
		if perr != nil {
			return nil, fmt.Errorf("ADA: %w", perr)
		}
		for _, in := range pl.inputs {
			own[in.address] = true
			v.Inputs = append(v.Inputs, signing.Flow{Address: in.address, Amount: new(big.Int).SetUint64(in.value)})
		}
		for _, o := range pl.outputs {
			v.Outputs = append(v.Outputs, signing.Flow{Address: o.address, Amount: new(big.Int).SetUint64(o.value), Change: own[o.address]})
		}
		v.Fee = new(big.Int).SetUint64(pl.fee)
		return v, nil
	}
	signed = strings.TrimSpace(signed)
	body, err := rosettaBody(signed, true)
	if err != nil {
		return nil, fmt.Errorf("ADA: signed transaction: %v", err)
	}
	hash := blake2b.Sum256(body)
	v.Signed, v.TxID = true, hex.EncodeToString(hash[:])
	if err := checkWitnesses(signed, hash[:]); err != nil {
		return nil, fmt.Errorf("ADA: signed transaction: %v", err)
	}
	var m map[uint64]cbor.RawMessage
	if err := dec.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("ADA: the transaction body is not a CBOR map: %v", err)
	}
	for k := range m {
		if k != 0 && k != 1 && k != 2 && k != 3 && k != 8 {
			v.Unknown = append(v.Unknown, fmt.Sprintf("ADA: body field %d (certificates, withdrawals, minting, metadata or scripts)", k))
		}
	}
	var fee uint64
	if err := dec.Unmarshal(m[2], &fee); err != nil {
		return nil, fmt.Errorf("ADA: fee: %v", err)
	}
	v.Fee = new(big.Int).SetUint64(fee)
	var ins []txIn
	if err := dec.Unmarshal(m[0], &ins); err != nil || len(ins) == 0 {
		return nil, fmt.Errorf("ADA: inputs: %v", err)
	}
	known := map[string]input{}
	if perr == nil {
		for _, in := range pl.inputs {
			known[fmt.Sprintf("%x:%d", in.id, in.index)] = in
		}
	}
	for _, ti := range ins {
		k := fmt.Sprintf("%x:%d", ti.ID, ti.Index)
		in, ok := known[k]
		if !ok {
			v.Inputs = append(v.Inputs, signing.Flow{})
			v.Unknown = append(v.Unknown, "ADA: input "+k+" is not a coin of the pending transaction's operations (its address and amount are unknown)")
			continue
		}
		own[in.address] = true
		v.Inputs = append(v.Inputs, signing.Flow{Address: in.address, Amount: new(big.Int).SetUint64(in.value)})
	}
	var outs []cbor.RawMessage
	if err := dec.Unmarshal(m[1], &outs); err != nil || len(outs) == 0 {
		return nil, fmt.Errorf("ADA: outputs: %v", err)
	}
	for i, o := range outs {
		raw, value, err := decodeOutput(o)
		if err != nil {
			v.Unknown = append(v.Unknown, fmt.Sprintf("ADA: output %d: %v", i, err))
			continue
		}
		addr, err := encodeAddress(raw, testnet)
		if err != nil {
			v.Unknown = append(v.Unknown, fmt.Sprintf("ADA: output %d: %v", i, err))
			continue
		}
		v.Outputs = append(v.Outputs, signing.Flow{Address: addr, Amount: new(big.Int).SetUint64(value), Change: own[addr]})
	}
	return v, nil
}

// encodeAddress writes a Shelley address's raw bytes as bech32 (CIP-19);
// Byron addresses (header type 8) have no bech32 form.
func encodeAddress(raw []byte, testnet bool) (string, error) {
	if len(raw) < 29 || raw[0]>>4 > 7 {
		return "", fmt.Errorf("not a Shelley payment address (%d bytes, header %#x)", len(raw), firstByte(raw))
	}
	hrp := "addr"
	if raw[0]&0x0f == 0 {
		hrp = "addr_test"
	}
	if (hrp == "addr_test") != testnet {
		return "", fmt.Errorf("an address of the other network (header %#x)", raw[0])
	}
	data, err := bech32.ConvertBits(raw, 8, 5, true)
	if err != nil {
		return "", err
	}
	return bech32.Encode(hrp, data)
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// checkWitnesses: the witness set's vkey witnesses (at least one) each
// sign the body hash; other witness kinds are refused.
func checkWitnesses(signed string, hash []byte) error {
	ws, err := witnessSet(signed)
	if err != nil {
		return err
	}
	for k := range ws {
		if k != 0 {
			return fmt.Errorf("witness kind %d (scripts, bootstrap, redeemers) is not one gokms signs", k)
		}
	}
	var vks []vkeyWitness
	if err := dec.Unmarshal(ws[0], &vks); err != nil || len(vks) == 0 {
		return fmt.Errorf("no vkey witnesses")
	}
	for i, w := range vks {
		if len(w.Vkey) != ed25519.PublicKeySize || !ed25519.Verify(w.Vkey, hash, w.Signature) {
			return fmt.Errorf("vkey witness %d is not a signature of the transaction body", i)
		}
	}
	return nil
}
