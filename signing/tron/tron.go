// Package tron signs TRON pending transactions as tatum-kms 8.0.1 does:
// @tatumio/tron 2.2.100's kms.sign is
// JSON.stringify(await tronWeb.trx.sign(JSON.parse(serializedTransaction), privateKey))
// with tronweb 5.3.2: the unsigned transaction JSON (visible, txID,
// raw_data, raw_data_hex) gets "signature": [hex(r || s || v)], a
// secp256k1 signature (RFC 6979 nonce, low S, v = 27 + recovery id) of
// the txID. tatum-kms posts that JSON string as txData to
// /v3/tron/broadcast. The output here is byte-identical
// (testdata/tron/vectors.json).
//
// Before signing gokms does what tronweb's txCheck does and more: it
// re-encodes raw_data to protobuf itself and refuses unless the bytes equal
// raw_data_hex and their sha256 equals the txID; it refuses unless the
// owner address is the signing key's; it accepts only one contract of type
// TransferContract, TransferAssetContract (TRC-10) or TriggerSmartContract
// (TRC-20), and no JSON member it does not encode, so what the JSON shows
// is what is signed.
package tron

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/encoding/protowire"
)

// ErrRefused is wrapped by every refusal to sign a transaction gokms does
// not understand or that contradicts itself or the key.
var ErrRefused = errors.New("TRON transaction refused")

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// Params limit what gokms signs. TRON signing asks no node: the txID
// and reference block come with the pending transaction.
type Params struct {
	// MaxFeeLimit refuses a raw_data.fee_limit above it, in sun (default
	// 1000 TRX).
	MaxFeeLimit int64
}

// DefaultMaxFeeLimit is 1000 TRX in sun. @tatumio/tron's TRC-20 transfers
// set fee limits of a few to a few hundred TRX.
const DefaultMaxFeeLimit = 1_000_000_000

// Contract types (protocol.Transaction.Contract.ContractType).
const (
	typeTransfer      = 1
	typeTransferAsset = 2
	typeTrigger       = 31
)

const typeURLPrefix = "type.googleapis.com/protocol."

// Transaction is a checked TRON transaction: what will be signed.
type Transaction struct {
	TxID         [32]byte
	Type         string // TransferContract, TransferAssetContract or TriggerSmartContract
	Owner        [21]byte
	To           [21]byte // recipient (TransferContract, TransferAssetContract) or contract
	Amount       int64    // sun, token units, or call_value
	AssetName    []byte   // TRC-10 token id as bytes ("1000001")
	Data         []byte   // TriggerSmartContract call data
	Memo         []byte   // raw_data.data
	FeeLimit     int64
	Expiration   int64
	Timestamp    int64
	PermissionID int64
	raw          []byte
	json         *value
}

// Decode parses and checks serializedTransaction as Sign does, without a
// key: the protobuf gokms encodes from raw_data must equal raw_data_hex and
// hash to the txID.
func Decode(serializedTransaction string, p Params) (*Transaction, error) {
	root, err := parseJSON(serializedTransaction)
	if err != nil {
		return nil, refuse("serializedTransaction is not JSON gokms accepts: %v", err)
	}
	if root.kind != kObject {
		return nil, refuse("serializedTransaction is not a JSON object")
	}
	if err := onlyKeys(root, "transaction", "visible", "txID", "raw_data", "raw_data_hex", "signature"); err != nil {
		return nil, err
	}
	if root.get("signature") != nil {
		return nil, refuse("the transaction is already signed (tronweb refuses it too)")
	}
	if v := root.get("visible"); v != nil && v.kind != kBool {
		return nil, refuse("visible must be true or false")
	}
	txIDHex, err := str(root, "txID", true)
	if err != nil {
		return nil, err
	}
	txID, err := hexBytes("txID", txIDHex)
	if err != nil || len(txID) != 32 {
		return nil, refuse("txID must be 64 hex digits")
	}
	rawHex, err := str(root, "raw_data_hex", true)
	if err != nil {
		return nil, err
	}
	rawGiven, err := hexBytes("raw_data_hex", rawHex)
	if err != nil {
		return nil, err
	}
	rd := root.get("raw_data")
	if rd == nil || rd.kind != kObject {
		return nil, refuse("raw_data missing or not an object")
	}
	tx := &Transaction{json: root}
	raw, err := tx.encodeRaw(rd)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(raw, rawGiven) {
		return nil, refuse("raw_data_hex is not the protobuf encoding of raw_data: the JSON and the bytes disagree")
	}
	sum := sha256.Sum256(raw)
	if !bytes.Equal(sum[:], txID) {
		return nil, refuse("txID is not sha256(raw_data): it signs something else")
	}
	tx.TxID, tx.raw = sum, raw
	max := p.MaxFeeLimit
	if max <= 0 {
		max = DefaultMaxFeeLimit
	}
	if tx.FeeLimit > max {
		return nil, refuse("fee_limit of %d sun exceeds the limit of %d sun", tx.FeeLimit, max)
	}
	return tx, nil
}

// Sign checks serializedTransaction (see Decode), checks that its owner is
// key's address and returns the signed transaction JSON to broadcast as
// txData, byte-identical to TronWeb's. The Signer does not keep or zero key.
func Sign(serializedTransaction string, key *btcec.PrivateKey, p Params) (string, error) {
	tx, err := Decode(serializedTransaction, p)
	if err != nil {
		return "", err
	}
	return tx.Sign(key)
}

// Sign signs a decoded transaction with key, whose address must be the
// owner's.
func (tx *Transaction) Sign(key *btcec.PrivateKey) (string, error) {
	if key == nil {
		return "", errors.New("no TRON key")
	}
	if own := Address(key.PubKey()); own != tx.Owner {
		return "", refuse("owner_address %s is not the address of the signing wallet (%s)", EncodeAddress(tx.Owner), EncodeAddress(own))
	}
	sig := signatureHex(key, tx.TxID)
	var buf bytes.Buffer
	tx.json.write(&buf)
	out := buf.Bytes()
	// Append "signature" as the last member, where tronweb sets it.
	out = append(out[:len(out)-1], []byte(`,"signature":["`+sig+`"]}`)...)
	return string(out), nil
}

// signatureHex is tronweb's ECKeySign: r and s as 64 lower-case hex digits,
// then v = 27 + recovery id as two upper-case hex digits.
func signatureHex(key *btcec.PrivateKey, txID [32]byte) string {
	c := ecdsa.SignCompact(key, txID[:], false) // [27+recid] || r || s
	return hex.EncodeToString(c[1:]) + strings.ToUpper(hex.EncodeToString(c[:1]))
}

// Address is the 21-byte TRON address (0x41 || keccak(pub)[12:]) of pub.
func Address(pub *btcec.PublicKey) [21]byte {
	var a [21]byte
	a[0] = 0x41
	eth := crypto.PubkeyToAddress(*pub.ToECDSA())
	copy(a[1:], eth[:])
	return a
}

// EncodeAddress writes a 21-byte address in base58check ("T...").
func EncodeAddress(a [21]byte) string { return base58.CheckEncode(a[1:], a[0]) }

// ParseAddress reads an address as tronweb's toHex does: hex (41 and 20
// bytes, optional 0x) or base58check "T...".
func ParseAddress(s string) ([21]byte, error) {
	var a [21]byte
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if b, err := hex.DecodeString(h); err == nil {
		if len(b) != 21 || b[0] != 0x41 {
			return a, fmt.Errorf("%q is not a TRON address (want 41 followed by 20 bytes in hex)", s)
		}
		copy(a[:], b)
		return a, nil
	}
	payload, ver, err := base58.CheckDecode(s)
	if err != nil || ver != 0x41 || len(payload) != 20 {
		return a, fmt.Errorf("%q is not a TRON address (base58 T... or hex 41...)", s)
	}
	a[0] = ver
	copy(a[1:], payload)
	return a, nil
}

func onlyKeys(o *value, where string, keys ...string) error {
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[k] = true
	}
	for _, m := range o.members {
		if !allowed[m.key] {
			return refuse("%s member %q is not one gokms knows how to check; refusing rather than ignoring it", where, m.key)
		}
	}
	return nil
}

func str(o *value, key string, required bool) (string, error) {
	v := o.get(key)
	if v == nil {
		if required {
			return "", refuse("%s missing", key)
		}
		return "", nil
	}
	if v.kind != kString {
		return "", refuse("%s must be a string", key)
	}
	return v.str, nil
}

// integer returns a JSON number member; absent is 0 (and skipped by the
// protobuf encoding, as tronweb's "if (value)" does).
func integer(o *value, key string, min int64) (int64, error) {
	v := o.get(key)
	if v == nil {
		return 0, nil
	}
	if v.kind != kNumber {
		return 0, refuse("%s must be a JSON number", key)
	}
	if v.num < min {
		return 0, refuse("%s is %d; want at least %d", key, v.num, min)
	}
	return v.num, nil
}

// hexBytes decodes hex with an optional 0x, as tronweb's fromHexString;
// odd lengths (which tronweb turns into a half byte) are refused.
func hexBytes(key, s string) ([]byte, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, refuse("%s is not hex with an even number of digits", key)
	}
	return b, nil
}

func address(o *value, key string) ([21]byte, error) {
	s, err := str(o, key, true)
	if err != nil {
		return [21]byte{}, err
	}
	a, err := ParseAddress(s)
	if err != nil {
		return a, refuse("%s: %v", key, err)
	}
	return a, nil
}

// encodeRaw is tronweb 5.3.2's txJsonToPb for the accepted contracts:
// protocol.Transaction.raw with fields in number order and proto3 zero
// values left out.
func (tx *Transaction) encodeRaw(rd *value) ([]byte, error) {
	if err := onlyKeys(rd, "raw_data", "contract", "ref_block_bytes", "ref_block_hash", "expiration", "timestamp", "fee_limit", "data"); err != nil {
		return nil, err
	}
	cs := rd.get("contract")
	if cs == nil || cs.kind != kArray || len(cs.arr) != 1 {
		return nil, refuse("raw_data.contract must hold exactly one contract")
	}
	contract, err := tx.encodeContract(cs.arr[0])
	if err != nil {
		return nil, err
	}
	refBytesHex, err := str(rd, "ref_block_bytes", true)
	if err != nil {
		return nil, err
	}
	refHashHex, err := str(rd, "ref_block_hash", true)
	if err != nil {
		return nil, err
	}
	refBytes, err := hexBytes("ref_block_bytes", refBytesHex)
	if err != nil {
		return nil, err
	}
	refHash, err := hexBytes("ref_block_hash", refHashHex)
	if err != nil {
		return nil, err
	}
	if len(refBytes) != 2 || len(refHash) != 8 {
		return nil, refuse("ref_block_bytes must be 2 bytes and ref_block_hash 8 bytes")
	}
	memoHex, err := str(rd, "data", false)
	if err != nil {
		return nil, err
	}
	if tx.Memo, err = hexBytes("data", memoHex); err != nil {
		return nil, err
	}
	if tx.Expiration, err = integer(rd, "expiration", 1); err != nil {
		return nil, err
	}
	if tx.Timestamp, err = integer(rd, "timestamp", 0); err != nil {
		return nil, err
	}
	if tx.FeeLimit, err = integer(rd, "fee_limit", 0); err != nil {
		return nil, err
	}
	if rd.get("expiration") == nil {
		return nil, refuse("raw_data.expiration missing")
	}
	var b []byte
	b = appendBytes(b, 1, refBytes)
	b = appendBytes(b, 4, refHash)
	b = appendInt(b, 8, tx.Expiration)
	b = appendBytes(b, 10, tx.Memo)
	b = appendBytes(b, 11, contract)
	b = appendInt(b, 14, tx.Timestamp)
	b = appendInt(b, 18, tx.FeeLimit)
	return b, nil
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func (tx *Transaction) encodeContract(c *value) ([]byte, error) {
	if c.kind != kObject {
		return nil, refuse("raw_data.contract[0] is not an object")
	}
	if err := onlyKeys(c, "contract", "parameter", "type", "Permission_id"); err != nil {
		return nil, err
	}
	typ, err := str(c, "type", true)
	if err != nil {
		return nil, err
	}
	if tx.PermissionID, err = integer(c, "Permission_id", 0); err != nil {
		return nil, err
	}
	param := c.get("parameter")
	if param == nil || param.kind != kObject {
		return nil, refuse("contract parameter missing or not an object")
	}
	if err := onlyKeys(param, "parameter", "value", "type_url"); err != nil {
		return nil, err
	}
	typeURL, err := str(param, "type_url", true)
	if err != nil {
		return nil, err
	}
	if typeURL != typeURLPrefix+typ {
		return nil, refuse("type_url %q does not match contract type %q", typeURL, typ)
	}
	val := param.get("value")
	if val == nil || val.kind != kObject {
		return nil, refuse("contract value missing or not an object")
	}
	tx.Type = typ
	var msg []byte
	var code int64
	switch typ {
	case "TransferContract":
		code = typeTransfer
		if err := onlyKeys(val, typ, "owner_address", "to_address", "amount"); err != nil {
			return nil, err
		}
		if tx.Owner, err = address(val, "owner_address"); err != nil {
			return nil, err
		}
		if tx.To, err = address(val, "to_address"); err != nil {
			return nil, err
		}
		if tx.Amount, err = integer(val, "amount", 1); err != nil {
			return nil, err
		}
		if val.get("amount") == nil {
			return nil, refuse("TransferContract without amount")
		}
		msg = appendBytes(msg, 1, tx.Owner[:])
		msg = appendBytes(msg, 2, tx.To[:])
		msg = appendInt(msg, 3, tx.Amount)
	case "TransferAssetContract":
		code = typeTransferAsset
		if err := onlyKeys(val, typ, "asset_name", "owner_address", "to_address", "amount"); err != nil {
			return nil, err
		}
		name, err := str(val, "asset_name", true)
		if err != nil {
			return nil, err
		}
		if tx.AssetName, err = hexBytes("asset_name", name); err != nil || len(tx.AssetName) == 0 {
			return nil, refuse("asset_name must be the token id in hex (\"1000001\" is 31303030303031)")
		}
		if tx.Owner, err = address(val, "owner_address"); err != nil {
			return nil, err
		}
		if tx.To, err = address(val, "to_address"); err != nil {
			return nil, err
		}
		if tx.Amount, err = integer(val, "amount", 1); err != nil {
			return nil, err
		}
		if val.get("amount") == nil {
			return nil, refuse("TransferAssetContract without amount")
		}
		msg = appendBytes(msg, 1, tx.AssetName)
		msg = appendBytes(msg, 2, tx.Owner[:])
		msg = appendBytes(msg, 3, tx.To[:])
		msg = appendInt(msg, 4, tx.Amount)
	case "TriggerSmartContract":
		code = typeTrigger
		if err := onlyKeys(val, typ, "owner_address", "contract_address", "call_value", "data", "call_token_value", "token_id"); err != nil {
			return nil, err
		}
		if tx.Owner, err = address(val, "owner_address"); err != nil {
			return nil, err
		}
		if tx.To, err = address(val, "contract_address"); err != nil {
			return nil, err
		}
		if tx.Amount, err = integer(val, "call_value", 0); err != nil {
			return nil, err
		}
		dataHex, err := str(val, "data", true)
		if err != nil {
			return nil, err
		}
		if tx.Data, err = hexBytes("data", dataHex); err != nil {
			return nil, err
		}
		tokenValue, err := integer(val, "call_token_value", 0)
		if err != nil {
			return nil, err
		}
		tokenID, err := integer(val, "token_id", 0)
		if err != nil {
			return nil, err
		}
		msg = appendBytes(msg, 1, tx.Owner[:])
		msg = appendBytes(msg, 2, tx.To[:])
		msg = appendInt(msg, 3, tx.Amount)
		msg = appendBytes(msg, 4, tx.Data)
		msg = appendInt(msg, 5, tokenValue)
		msg = appendInt(msg, 6, tokenID)
	default:
		return nil, refuse("contract type %q: gokms signs only TransferContract (TRX), TransferAssetContract (TRC-10) and TriggerSmartContract (TRC-20)", typ)
	}
	var anyMsg []byte
	anyMsg = protowire.AppendTag(anyMsg, 1, protowire.BytesType)
	anyMsg = protowire.AppendString(anyMsg, typeURL)
	anyMsg = appendBytes(anyMsg, 2, msg)
	var out []byte
	out = appendInt(out, 1, code)
	out = appendBytes(out, 2, anyMsg)
	out = appendInt(out, 5, tx.PermissionID)
	return out, nil
}

// TRC20Transfer reads a TriggerSmartContract's call data as a TRC-20
// transfer(address,uint256) (selector a9059cbb), for policy checks: the
// recipient and the token amount. ok is false for any other call (gokms
// still signs those: approve, transferFrom and other contract calls are
// TriggerSmartContract too; a policy decides).
func (tx *Transaction) TRC20Transfer() (to [21]byte, amount *big.Int, ok bool) {
	d := tx.Data
	if tx.Type != "TriggerSmartContract" || len(d) != 4+64 || !bytes.Equal(d[:4], []byte{0xa9, 0x05, 0x9c, 0xbb}) {
		return to, nil, false
	}
	// The address word is 12 zero bytes then the 20-byte address.
	if !bytes.Equal(d[4:16], make([]byte, 12)) {
		return to, nil, false
	}
	to[0] = 0x41
	copy(to[1:], d[16:36])
	return to, new(big.Int).SetBytes(d[36:68]), true
}
