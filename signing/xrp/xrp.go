// Package xrp signs XRP pending transactions as tatum-kms 8.0.1 does:
// @tatumio/xrp 2.2.100's kms.sign is xrpl 2.14.1's
// Wallet.fromSeed(secret).sign(JSON.parse(serializedTransaction)).tx_blob,
// the upper-case hex blob tatum-kms broadcasts as txData to
// /v3/xrp/broadcast. The output here is byte-identical to that blob
// (testdata/xrp/vectors.json).
//
// Before signing, the transaction JSON is decoded fully: only Payment,
// TrustSet and AccountSet with the fields listed in codec.go are accepted,
// the Account must be the address of the signing key, and the fee must not
// exceed a limit. Missing Sequence, Fee or LastLedgerSequence are asked of
// an XRPL node as xrpl's autofill would (Node); Tatum normally fills them.
package xrp

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/gokms/gokms/wallet"
)

// Key is an XRP account key. *wallet.XRPKey (from the family seed stored
// as the wallet's secret) implements it.
type Key interface {
	Address() string
	PublicKey() []byte // 33 bytes as SigningPubKey holds it
	Sign(signingData []byte) ([]byte, error)
}

// Node answers what xrpl's autofill asks an XRPL server for, when the
// pending transaction lacks it.
type Node interface {
	// AccountSequence is account_info's account_data.Sequence in the
	// current (open) ledger.
	AccountSequence(ctx context.Context, account string) (uint32, error)
	// FeeDrops is xrpl's getFeeXrp: server_info's base fee times its load
	// factor times 1.2, at most 2 XRP, in drops rounded up.
	FeeDrops(ctx context.Context) (uint64, error)
	// ValidatedLedgerIndex is the index of the latest validated ledger;
	// LastLedgerSequence becomes it plus 20, as in xrpl.
	ValidatedLedgerIndex(ctx context.Context) (uint32, error)
}

// Params are the chain values injected into Sign.
type Params struct {
	// Node fills missing Sequence, Fee and LastLedgerSequence. Nil refuses
	// transactions that lack them.
	Node Node
	// MaxFeeDrops refuses a higher Fee (default 2 XRP, xrpl's maxFeeXRP).
	MaxFeeDrops uint64
}

// DefaultMaxFeeDrops is xrpl 2.14.1's default maxFeeXRP (2 XRP).
const DefaultMaxFeeDrops = 2_000_000

// ledgerOffset is xrpl's LEDGER_OFFSET: LastLedgerSequence = validated + 20.
const ledgerOffset = 20

// ErrRefused is wrapped by every refusal to sign a transaction gokms does
// not understand or that contradicts the key.
var ErrRefused = errors.New("XRP transaction refused")

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// Sign signs serializedTransaction (the pending transaction's JSON, as
// Tatum holds it) with key and returns the tx_blob to broadcast (upper-case
// hex). It never returns a partly signed transaction.
func Sign(ctx context.Context, serializedTransaction string, key Key, p Params) (string, error) {
	tx, err := parseTx(serializedTransaction)
	if err != nil {
		return "", err
	}
	if err := check(tx, key.Address()); err != nil {
		return "", err
	}
	if err := fill(ctx, tx, p.Node); err != nil {
		return "", err
	}
	max := p.MaxFeeDrops
	if max == 0 {
		max = DefaultMaxFeeDrops
	}
	fee, err := parseDrops(tx["Fee"].(string))
	if err != nil {
		return "", refuse("Fee: %v", err)
	}
	if fee > max {
		return "", refuse("Fee of %d drops exceeds the limit of %d drops", fee, max)
	}
	// As xrpl's Wallet.sign: SigningPubKey is the key's, TxnSignature signs
	// "STX\0" || the signing fields.
	pub := key.PublicKey()
	tx["SigningPubKey"] = strings.ToUpper(hex.EncodeToString(pub))
	data, err := SigningData(tx)
	if err != nil {
		return "", err
	}
	sig, err := key.Sign(data)
	if err != nil {
		return "", fmt.Errorf("signing XRP transaction: %w", err)
	}
	tx["TxnSignature"] = strings.ToUpper(hex.EncodeToString(sig))
	var buf bytes.Buffer
	if err := encodeObject(&buf, tx, false); err != nil {
		return "", refuse("%v", err)
	}
	return strings.ToUpper(hex.EncodeToString(buf.Bytes())), nil
}

// SigningData is what a single signer signs: "STX\0" then the signing
// fields of tx (ripple-binary-codec's encodeForSigning).
func SigningData(tx map[string]any) ([]byte, error) {
	buf := bytes.NewBuffer([]byte{0x53, 0x54, 0x58, 0x00})
	if err := encodeObject(buf, tx, true); err != nil {
		return nil, refuse("%v", err)
	}
	return buf.Bytes(), nil
}

// parseTx decodes the JSON strictly: one object, no duplicate keys,
// numbers kept as written. Null members are dropped, as xrpl's Wallet.sign
// drops them (omitBy null).
func parseTx(s string) (map[string]any, error) {
	if err := noDuplicateKeys(s); err != nil {
		return nil, refuse("serializedTransaction: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var tx map[string]any
	if err := dec.Decode(&tx); err != nil || tx == nil {
		return nil, refuse("serializedTransaction is not a JSON object (%v)", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, refuse("serializedTransaction has data after the JSON object")
	}
	for k, v := range tx {
		if v == nil {
			delete(tx, k)
		}
	}
	return tx, nil
}

// noDuplicateKeys walks the JSON and refuses an object with a key twice
// (JSON.parse keeps the last; a viewer may show the first).
func noDuplicateKeys(s string) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	type frame struct {
		keys  map[string]bool
		isObj bool
		key   bool // next token in an object is a key
	}
	var stack []*frame
	for {
		t, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.isObj && top.key {
			if d, ok := t.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := t.(string)
			if top.keys[k] {
				return fmt.Errorf("key %q appears twice", k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		if top != nil && top.isObj {
			top.key = true
		}
		switch d := t.(type) {
		case json.Delim:
			switch d {
			case '{':
				stack = append(stack, &frame{keys: map[string]bool{}, isObj: true, key: true})
			case '[':
				stack = append(stack, &frame{})
			case ']':
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// check refuses what gokms does not understand or what the key must not
// sign. It mirrors xrpl 2.14.1's validate for the accepted types and adds:
// no unknown fields, the Account is the key's.
func check(tx map[string]any, account string) error {
	tt, ok := tx["TransactionType"].(string)
	if !ok {
		return refuse("TransactionType missing or not a string")
	}
	extra, ok := typeFields[tt]
	if !ok {
		return refuse("TransactionType %q: gokms signs only Payment, TrustSet and AccountSet", tt)
	}
	allowed := map[string]bool{}
	for _, f := range append(append([]string{}, commonFields...), extra...) {
		allowed[f] = true
	}
	for k := range tx {
		if k == "TxnSignature" || k == "Signers" {
			return refuse("the transaction already carries %s (xrpl refuses to sign it too)", k)
		}
		if !allowed[k] {
			return refuse("%s field %q is not one gokms knows how to sign; refusing rather than dropping it", tt, k)
		}
	}
	acc, _ := tx["Account"].(string)
	if acc == "" {
		return refuse("Account missing")
	}
	if _, err := wallet.DecodeXRPAddress(acc); err != nil {
		return refuse("Account: %v", err)
	}
	if acc != account {
		return refuse("Account %s is not the address of the signing wallet (%s)", acc, account)
	}
	for k, v := range tx {
		f := fields[k]
		var err error
		switch f.typ {
		case tUInt8, tUInt32:
			_, err = uintValue(v, f.typ)
		case tHash256:
			_, err = hexValue(v, 32)
		case tBlob:
			_, err = hexValue(v, -1)
		case tAccountID:
			s, ok := v.(string)
			if !ok {
				err = fmt.Errorf("want an address string")
			} else {
				_, err = wallet.DecodeXRPAddress(s)
			}
		case tAmount:
			_, err = encodeAmount(v)
			_, isIOU := v.(map[string]any)
			if err == nil && k == "Fee" && isIOU {
				err = fmt.Errorf("the fee must be XRP drops")
			}
			if err == nil && k == "LimitAmount" && !isIOU {
				err = fmt.Errorf("a trust line limit must be an issued currency amount")
			}
		case tSTArray:
			err = checkMemos(v)
		}
		if err != nil {
			return refuse("%s: %v", k, err)
		}
	}
	switch tt {
	case "Payment":
		if _, ok := tx["Amount"]; !ok {
			return refuse("Payment without Amount")
		}
		if _, ok := tx["Destination"]; !ok {
			return refuse("Payment without Destination")
		}
		if _, ok := tx["DeliverMin"]; ok {
			fl, _ := uintValue(tx["Flags"], tUInt32)
			if fl&tfPartialPayment == 0 {
				return refuse("DeliverMin needs the tfPartialPayment flag (as xrpl's validate says)")
			}
		}
	case "TrustSet":
		if _, ok := tx["LimitAmount"]; !ok {
			return refuse("TrustSet without LimitAmount")
		}
	}
	return nil
}

func checkMemos(v any) error {
	arr, ok := v.([]any)
	if !ok {
		return fmt.Errorf("want an array of {Memo: {...}}")
	}
	for i, el := range arr {
		o, ok := el.(map[string]any)
		memo, ok2 := o["Memo"].(map[string]any)
		if !ok || !ok2 || len(o) != 1 {
			return fmt.Errorf("element %d: want {\"Memo\": {MemoType, MemoData, MemoFormat}}", i)
		}
		if len(memo) == 0 {
			return fmt.Errorf("element %d: empty Memo", i)
		}
		for k, mv := range memo {
			if k != "MemoType" && k != "MemoData" && k != "MemoFormat" {
				return fmt.Errorf("element %d: Memo field %q is not MemoType, MemoData or MemoFormat", i, k)
			}
			if _, err := hexValue(mv, -1); err != nil {
				return fmt.Errorf("element %d %s: %v", i, k, err)
			}
		}
	}
	return nil
}

// fill asks the node for Sequence, Fee and LastLedgerSequence when the
// pending transaction lacks them, as xrpl's autofill would.
func fill(ctx context.Context, tx map[string]any, node Node) error {
	var missing []string
	for _, k := range []string{"Sequence", "Fee", "LastLedgerSequence"} {
		if _, ok := tx[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if node == nil {
		return refuse("the transaction lacks %s and no XRPL node is configured to fill them in", strings.Join(missing, ", "))
	}
	for _, k := range missing {
		switch k {
		case "Sequence":
			seq, err := node.AccountSequence(ctx, tx["Account"].(string))
			if err != nil {
				return fmt.Errorf("XRPL node: account sequence: %w", err)
			}
			tx[k] = json.Number(fmt.Sprint(seq))
		case "Fee":
			fee, err := node.FeeDrops(ctx)
			if err != nil {
				return fmt.Errorf("XRPL node: fee: %w", err)
			}
			tx[k] = fmt.Sprint(fee)
		case "LastLedgerSequence":
			idx, err := node.ValidatedLedgerIndex(ctx)
			if err != nil {
				return fmt.Errorf("XRPL node: validated ledger: %w", err)
			}
			if idx > math.MaxUint32-ledgerOffset {
				return fmt.Errorf("XRPL node: validated ledger index %d is out of range", idx)
			}
			tx[k] = json.Number(fmt.Sprint(uint64(idx) + ledgerOffset))
		}
	}
	return nil
}
