package evm

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/ethereum/go-ethereum/common"

	"github.com/gokms/gokms/signing/internal/onejson"
)

// txFields is a web3.js transaction object after parsing and validation. A
// nil pointer or a false has* flag means "not given: fill from the node".
type txFields struct {
	to       *common.Address // nil: contract creation
	value    *big.Int        // never nil
	data     []byte
	gas      uint64
	hasGas   bool
	gasPrice *big.Int
	maxFee   *big.Int
	maxTip   *big.Int
	nonce    uint64
	hasNonce bool
	from     *common.Address
	chainID  *big.Int
	txType   int // -1: not given, 0: legacy, 2: EIP-1559
}

// dynamic reports whether the transaction is an EIP-1559 one.
func (t *txFields) dynamic() bool { return t.txType == 2 || t.maxFee != nil || t.maxTip != nil }

// maxSafeJSONInteger is JavaScript's Number.MAX_SAFE_INTEGER: a JSON number
// above it has already lost precision in the JavaScript that produced it.
const maxSafeJSONInteger = 1<<53 - 1

// knownFields are the web3.js transaction keys gokms understands. Anything
// else is refused: an unknown key may change what the transaction means.
var knownFields = map[string]bool{
	"to": true, "value": true, "data": true, "input": true, "gas": true, "gasLimit": true,
	"gasPrice": true, "nonce": true, "from": true, "chainId": true, "maxFeePerGas": true,
	"maxPriorityFeePerGas": true, "type": true, "accessList": true,
}

// celoFields are Celo's fee-currency fields (CIP-64 feeCurrency, and the
// gateway fee of the retired Celo legacy transaction).
var celoFields = map[string]bool{"feeCurrency": true, "gatewayFee": true, "gatewayFeeRecipient": true}

// parseTx parses the serializedTransaction of a pending EVM transaction.
// It does no I/O. Error messages quote the offending field, never a key.
func parseTx(chain Chain, serialized string) (*txFields, error) {
	m, err := onejson.Object(serialized)
	if errors.Is(err, onejson.ErrTrailing) {
		return nil, errors.New("serializedTransaction has data after the JSON object")
	}
	if err != nil {
		if strings.TrimSpace(serialized) == "null" {
			return nil, errors.New("serializedTransaction is null, want a JSON object")
		}
		return nil, fmt.Errorf("serializedTransaction is not a JSON object: %w", err)
	}
	var unknown []string
	for k := range m {
		if knownFields[k] || (chain.Code == "CELO" && celoFields[k]) {
			continue
		}
		unknown = append(unknown, k)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("serializedTransaction has fields gokms does not sign for %s: %s", chain.Code, strings.Join(unknown, ", "))
	}
	if chain.Code == "CELO" {
		if err := checkCeloFields(chain, m); err != nil {
			return nil, err
		}
	}

	t := &txFields{txType: -1}
	if t.to, err = parseAddress(chain, m, "to", false); err != nil {
		return nil, err
	}
	if t.from, err = parseAddress(chain, m, "from", true); err != nil {
		return nil, err
	}
	if t.value, err = parseNum(m, "value", 256); err != nil {
		return nil, err
	}
	if t.value == nil {
		t.value = new(big.Int)
	}
	if t.data, err = parseData(m); err != nil {
		return nil, err
	}
	if t.to == nil && len(t.data) == 0 {
		return nil, errors.New("transaction has neither `to` nor `data`: a contract creation without code")
	}

	gas, err := parseNum(m, "gas", 64)
	if err != nil {
		return nil, err
	}
	gasLimit, err := parseNum(m, "gasLimit", 64)
	if err != nil {
		return nil, err
	}
	if gas != nil && gasLimit != nil && gas.Cmp(gasLimit) != 0 {
		return nil, fmt.Errorf("`gas` %s and `gasLimit` %s disagree", gas, gasLimit)
	}
	if gas == nil {
		gas = gasLimit
	}
	// As tatum-kms (`if (!tx.gas)`): a zero gas limit means "estimate it".
	if gas != nil && gas.Sign() != 0 {
		t.gas, t.hasGas = gas.Uint64(), true
	}

	nonce, err := parseNum(m, "nonce", 64)
	if err != nil {
		return nil, err
	}
	// As tatum-kms (`if (!tx.nonce)`): nonce 0 means "ask the node", so that
	// API clients sending a default 0 keep working.
	if nonce != nil && nonce.Sign() != 0 {
		if !nonce.IsUint64() || nonce.Uint64() == ^uint64(0) { // EIP-2681
			return nil, fmt.Errorf("`nonce` %s is out of range", nonce)
		}
		t.nonce, t.hasNonce = nonce.Uint64(), true
	}

	if t.gasPrice, err = parseNum(m, "gasPrice", 256); err != nil {
		return nil, err
	}
	if t.gasPrice != nil && t.gasPrice.Sign() == 0 { // tatum-kms: 0, "0", "0x0" mean "ask"
		t.gasPrice = nil
	}
	if t.maxFee, err = parseNum(m, "maxFeePerGas", 256); err != nil {
		return nil, err
	}
	if t.maxFee != nil && t.maxFee.Sign() == 0 {
		t.maxFee = nil
	}
	if t.maxTip, err = parseNum(m, "maxPriorityFeePerGas", 256); err != nil {
		return nil, err
	}
	if t.chainID, err = parseNum(m, "chainId", 64); err != nil {
		return nil, err
	}
	if t.chainID != nil && t.chainID.Sign() == 0 {
		t.chainID = nil
	}
	typ, err := parseNum(m, "type", 8)
	if err != nil {
		return nil, err
	}
	if typ != nil {
		switch typ.Int64() {
		case 0, 2:
			t.txType = int(typ.Int64())
		default:
			return nil, fmt.Errorf("transaction `type` %s is not supported (only 0, legacy, and 2, EIP-1559)", typ)
		}
	}
	if raw, ok := m["accessList"]; ok && !isEmptyList(raw) {
		return nil, errors.New("transactions with a non-empty `accessList` are not supported")
	}

	switch {
	case t.gasPrice != nil && (t.maxFee != nil || t.maxTip != nil):
		return nil, errors.New("transaction has both `gasPrice` and EIP-1559 fee caps (`maxFeePerGas`/`maxPriorityFeePerGas`); give one or the other")
	case t.txType == 0 && (t.maxFee != nil || t.maxTip != nil):
		return nil, errors.New("transaction `type` 0 (legacy) cannot carry EIP-1559 fee caps")
	case t.txType == 2 && t.gasPrice != nil:
		return nil, errors.New("transaction `type` 2 (EIP-1559) cannot carry `gasPrice`")
	case t.dynamic() && !chain.DynamicFee:
		return nil, fmt.Errorf("%s: EIP-1559 fee caps are not signed for this chain (its nodes take legacy transactions); give `gasPrice` or no fee at all", chain.Code)
	case t.maxFee != nil && t.maxTip != nil && t.maxTip.Cmp(t.maxFee) > 0:
		return nil, fmt.Errorf("`maxPriorityFeePerGas` %s is above `maxFeePerGas` %s", t.maxTip, t.maxFee)
	}
	return t, nil
}

func isEmptyList(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return bytes.Equal(s, []byte("null")) || bytes.Equal(s, []byte("[]"))
}

// checkCeloFields refuses Celo fee-currency transactions. Paying gas in a
// token (cUSD, cEUR, ...) needs Celo's CIP-64 transaction type (0x7b), which
// go-ethereum does not implement; the Celo legacy format with a gateway fee
// was removed by Celo's L2 migration. Signing either as a plain Ethereum
// transaction would drop the field and pay gas in CELO instead, so an empty
// value (null, "", 0, the zero address) is accepted and anything else refused.
func checkCeloFields(chain Chain, m map[string]json.RawMessage) error {
	for _, f := range []string{"feeCurrency", "gatewayFeeRecipient"} {
		a, err := parseAddress(chain, m, f, true)
		if err != nil {
			return err
		}
		if a != nil && *a != (common.Address{}) {
			return fmt.Errorf("CELO: `%s` %s is not supported: paying gas in a fee currency needs Celo's CIP-64 transaction type, which gokms does not sign; remove the field to pay gas in CELO", f, a.Hex())
		}
	}
	fee, err := parseNum(m, "gatewayFee", 256)
	if err != nil {
		return err
	}
	if fee != nil && fee.Sign() != 0 {
		return errors.New("CELO: `gatewayFee` is not supported: gateway fees belong to the retired Celo legacy transaction format")
	}
	return nil
}

// quote shows a field value in an error message, shortened.
func quote(raw json.RawMessage) string {
	s := string(raw)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// parseNum reads an unsigned integer field given as a decimal string, a
// 0x-hex string or a JSON number (as web3.js accepts), bounded to bits. It
// returns nil for an absent field, null or "".
func parseNum(m map[string]json.RawMessage, field string, bits int) (*big.Int, error) {
	raw, ok := m[field]
	if !ok {
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	bad := func(why string) error { return fmt.Errorf("`%s` %s: %s", field, quote(raw), why) }
	var n *big.Int
	switch {
	case bytes.Equal(raw, []byte("null")):
		return nil, nil
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, bad("not a JSON string")
		}
		if s == "" {
			return nil, nil
		}
		var ok bool
		if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
			if len(s) == 2 || !isHex(s[2:]) {
				return nil, bad("not a hex number")
			}
			n, ok = new(big.Int).SetString(s[2:], 16)
		} else {
			if strings.HasPrefix(s, "-") {
				return nil, bad("negative")
			}
			if !isDigits(s) {
				return nil, bad("not a decimal or 0x-hex integer")
			}
			n, ok = new(big.Int).SetString(s, 10)
		}
		if !ok {
			return nil, bad("not an integer")
		}
	case len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')):
		s := string(raw)
		if s[0] == '-' {
			return nil, bad("negative")
		}
		if !isDigits(s) {
			return nil, bad("not an integer (fractions and exponents are refused)")
		}
		n, _ = new(big.Int).SetString(s, 10)
		if n.Cmp(big.NewInt(maxSafeJSONInteger)) > 0 {
			return nil, bad("a JSON number above 2^53-1 has lost precision; send it as a string")
		}
	default:
		return nil, bad("want a number, a decimal string or a 0x-hex string")
	}
	if n.BitLen() > bits {
		return nil, bad(fmt.Sprintf("does not fit in %d bits", bits))
	}
	return n, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// parseData reads `data` (or its web3 alias `input`): 0x-prefixed hex.
func parseData(m map[string]json.RawMessage) ([]byte, error) {
	var out [][]byte
	for _, f := range []string{"data", "input"} {
		raw, ok := m[f]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("`%s` %s: want a 0x-hex string", f, quote(raw))
		}
		if s == "" {
			out = append(out, nil)
			continue
		}
		if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
			return nil, fmt.Errorf("`%s` %s: want 0x-prefixed hex", f, quote(raw))
		}
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, fmt.Errorf("`%s` %s: not hex (odd length or a non-hex digit)", f, quote(raw))
		}
		out = append(out, b)
	}
	switch len(out) {
	case 0:
		return nil, nil
	case 2:
		if !bytes.Equal(out[0], out[1]) {
			return nil, errors.New("`data` and `input` disagree")
		}
	}
	return out[0], nil
}

// parseAddress reads an address field: 0x-hex (EIP-55 checked when mixed
// case), xdc-prefixed on XDC, bech32 one1... on ONE. optional fields accept
// the number 0 and "" as absent (Tatum serializes `from: 0`).
func parseAddress(chain Chain, m map[string]json.RawMessage, field string, zeroIsAbsent bool) (*common.Address, error) {
	raw, ok := m[field]
	if !ok {
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if zeroIsAbsent && bytes.Equal(raw, []byte("0")) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("`%s` %s: want an address string", field, quote(raw))
	}
	if s == "" || (zeroIsAbsent && s == "0") {
		return nil, nil
	}
	a, err := ParseAddress(chain.Code, s)
	if err != nil {
		return nil, fmt.Errorf("`%s`: %w", field, err)
	}
	return &a, nil
}

// ParseAddress parses an address as the chain writes it: 0x-hex everywhere
// (an EIP-55 checksum is verified when the hex is mixed case), xdc-prefixed
// hex on XDC, and bech32 one1... on ONE.
func ParseAddress(chain, s string) (common.Address, error) {
	chain = strings.ToUpper(chain)
	hexPart := ""
	switch {
	case len(s) == 42 && (s[:2] == "0x" || s[:2] == "0X"):
		hexPart = s[2:]
	case chain == "XDC" && len(s) == 43 && strings.EqualFold(s[:3], "xdc"):
		hexPart = s[3:]
	case chain == "ONE" && strings.HasPrefix(strings.ToLower(s), "one1"):
		return parseONE(s)
	default:
		return common.Address{}, fmt.Errorf("%q is not a %s address", shorten(s), chain)
	}
	if !isHex(hexPart) {
		return common.Address{}, fmt.Errorf("%q is not a %s address: not hex", shorten(s), chain)
	}
	a := common.HexToAddress(hexPart)
	if hexPart != strings.ToLower(hexPart) && hexPart != strings.ToUpper(hexPart) {
		// Mixed case carries an EIP-55 checksum: a typo must not become a
		// valid-looking destination.
		if a.Hex()[2:] != hexPart {
			return common.Address{}, fmt.Errorf("%q has a wrong EIP-55 checksum", shorten(s))
		}
	}
	return a, nil
}

func parseONE(s string) (common.Address, error) {
	hrp, data, err := bech32.Decode(s)
	if err != nil {
		return common.Address{}, fmt.Errorf("%q is not a valid bech32 ONE address: %v", shorten(s), err)
	}
	if hrp != "one" {
		return common.Address{}, fmt.Errorf("%q is not a ONE address (prefix %q)", shorten(s), hrp)
	}
	b, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil || len(b) != common.AddressLength {
		return common.Address{}, fmt.Errorf("%q is not a ONE address: wrong length", shorten(s))
	}
	return common.BytesToAddress(b), nil
}

// FormatAddress writes an address the way the chain shows it to users:
// xdc-prefixed on XDC, bech32 one1... on ONE, EIP-55 0x-hex elsewhere.
func FormatAddress(chain string, a common.Address) string {
	switch strings.ToUpper(chain) {
	case "XDC":
		return "xdc" + a.Hex()[2:]
	case "ONE":
		conv, err := bech32.ConvertBits(a.Bytes(), 8, 5, true)
		if err == nil {
			if s, err := bech32.Encode("one", conv); err == nil {
				return s
			}
		}
	}
	return a.Hex()
}

func shorten(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
