package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrRefused is wrapped by every refusal to sign.
var ErrRefused = errors.New("FLOW transaction refused")

// The pending transaction's "type" (tatum-js v1 FlowTxType).
const (
	txCreateAccount   = 0
	txAddPublicKey    = 1
	txTransfer        = 2
	txDeployNFT       = 3
	txMintNFT         = 4
	txMintMultipleNFT = 5
	txBurnNFT         = 6
	txTransferNFT     = 7
	txCustom          = 8
)

var typeNames = map[int]string{
	txCreateAccount: "CREATE_ACCOUNT", txAddPublicKey: "ADD_PK_TO_ACCOUNT", txDeployNFT: "DEPLOY_NFT",
	txMintNFT: "MINT_NFT", txMintMultipleNFT: "MINT_MULTIPLE_NFT", txBurnNFT: "BURN_NFT", txTransferNFT: "TRANSFER_NFT",
}

// ComputeLimit is fcl.limit(9999), as the SDK sets it for every transaction.
const ComputeLimit = 9999

type contracts struct{ fungibleToken, flowToken, fusd string }

var (
	mainnet = contracts{"0xf233dcee88fe0abe", "0x1654653399040a61", "0x3c5959b568896393"}
	testnet = contracts{"0x9a0766d93b6608b7", "0x7e60df042a9c0868", "0xe223d8a629e49c68"}
)

// transferTemplate is tatum-js v1's prepareTransferFlowTxTemplate after
// dedent-js (testdata/flow vectors hold the SDK's text).
func transferTemplate(c contracts, token string) string {
	name, storage, addr := "FlowToken", "flowToken", c.flowToken
	if token == "FUSD" {
		name, storage, addr = "FUSD", "fusd", c.fusd
	}
	return `import FungibleToken from ` + c.fungibleToken + `
import ` + name + ` from ` + addr + `

transaction(amount: UFix64, recipient: Address) {
let sentVault: @FungibleToken.Vault
prepare(signer: AuthAccount) {
  let vaultRef = signer.borrow<&` + name + `.Vault>(from: /storage/` + storage + `Vault)
    ?? panic("failed to borrow reference to sender vault")

  self.sentVault <- vaultRef.withdraw(amount: amount)
}

execute {
  let receiverRef =  getAccount(recipient)
    .getCapability(/public/` + storage + `Receiver)
    .borrow<&{FungibleToken.Receiver}>()
      ?? panic("failed to borrow reference to recipient vault")

  receiverRef.deposit(from: <-self.sentVault)
}
}`
}

// Intent is what a pending transaction asks the wallet's account to
// authorize: Cadence code and its arguments.
type Intent struct {
	Type      int
	Account   Address  // the authorizer: the wallet's Flow account
	Script    []byte   // Cadence
	Arguments [][]byte // JSON-Cadence
	// For transfers, what the policy layer can check.
	Currency string // FLOW or FUSD
	To       Address
	Amount   string // UFix64, 8 decimals
}

type pendingBody struct {
	Type *int `json:"type"`
	Body struct {
		Account     string    `json:"account"`
		To          string    `json:"to"`
		Amount      string    `json:"amount"`
		Currency    string    `json:"currency"`
		Transaction *string   `json:"transaction"`
		Args        []flowArg `json:"args"`
	} `json:"body"`
}

type flowArg struct {
	Type    string          `json:"type"`
	SubType string          `json:"subType"`
	Value   json.RawMessage `json:"value"`
}

var amountRE = regexp.MustCompile(`^[+]?((\d+(\.\d*)?)|(\.\d+))$`)

// ParseIntent reads tatum-kms's serializedTransaction {"type": n, "body":
// {...}} and builds the code and arguments the SDK would send. Custom
// transactions (arbitrary Cadence) are signed only when allowCustom is set.
func ParseIntent(serialized string, isTestnet, allowCustom bool) (*Intent, error) {
	var p pendingBody
	if err := json.Unmarshal([]byte(serialized), &p); err != nil || p.Type == nil {
		return nil, fmt.Errorf("%w: serializedTransaction is not {\"type\": <FlowTxType>, \"body\": {...}}", ErrRefused)
	}
	c := mainnet
	if isTestnet {
		c = testnet
	}
	acct, err := ParseAddress(p.Body.Account)
	if err != nil || len(p.Body.Account) != 18 {
		return nil, fmt.Errorf("%w: body.account %q: want the wallet's Flow address, 0x and 16 hex characters", ErrRefused, p.Body.Account)
	}
	in := &Intent{Type: *p.Type, Account: acct}
	switch *p.Type {
	case txTransfer:
		b := p.Body
		if b.Currency != "FLOW" && b.Currency != "FUSD" {
			return nil, fmt.Errorf("%w: transfer of %q; want FLOW or FUSD", ErrRefused, b.Currency)
		}
		to, err := ParseAddress(b.To)
		if err != nil || len(b.To) != 18 {
			return nil, fmt.Errorf("%w: body.to %q: want 0x and 16 hex characters", ErrRefused, b.To)
		}
		amount, err := toFixed8(b.Amount)
		if err != nil {
			return nil, fmt.Errorf("%w: body.amount: %v", ErrRefused, err)
		}
		in.Currency, in.To, in.Amount = b.Currency, to, amount
		in.Script = []byte(transferTemplate(c, b.Currency))
		in.Arguments = [][]byte{
			cadenceJSON("UFix64", jsString(amount)),
			cadenceJSON("Address", jsString(b.To)),
		}
	case txCustom:
		if !allowCustom {
			return nil, fmt.Errorf("%w: a custom transaction (FlowTxType CUSTOM_TX) runs arbitrary Cadence with the wallet's authority; gokms signs it only when custom Flow transactions are allowed in its configuration", ErrRefused)
		}
		if p.Body.Transaction == nil || strings.TrimSpace(*p.Body.Transaction) == "" {
			return nil, fmt.Errorf("%w: custom transaction without body.transaction", ErrRefused)
		}
		in.Script = []byte(*p.Body.Transaction)
		for i, a := range p.Body.Args {
			b, err := argument(a, true)
			if err != nil {
				return nil, fmt.Errorf("%w: argument %d: %v", ErrRefused, i, err)
			}
			in.Arguments = append(in.Arguments, b)
		}
	default:
		name := typeNames[*p.Type]
		if name == "" {
			return nil, fmt.Errorf("%w: unknown FlowTxType %d", ErrRefused, *p.Type)
		}
		return nil, fmt.Errorf("%w: FlowTxType %s is not supported by gokms yet; sign it with tatum-kms or as a custom transaction", ErrRefused, name)
	}
	return in, nil
}

// toFixed8 is parseFloat(amount).toFixed(8), refused where that would
// change the amount (more than 8 decimals or more digits than a float64
// keeps) or where it is out of UFix64's range.
func toFixed8(s string) (string, error) {
	if !amountRE.MatchString(s) {
		return "", fmt.Errorf("%q is not a decimal number", s)
	}
	f, err := strconv.ParseFloat(strings.TrimPrefix(s, "+"), 64)
	if err != nil || f <= 0 || f >= 184467440737 {
		return "", fmt.Errorf("%q is out of range (0, 184467440737)", s)
	}
	out := strconv.FormatFloat(f, 'f', 8, 64)
	a, _ := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
	b, _ := new(big.Rat).SetString(out)
	if a == nil || b == nil || a.Cmp(b) != 0 {
		return "", fmt.Errorf("%q would be signed as %s (tatum-kms rounds through a float); send at most 8 decimals", s, out)
	}
	return out, nil
}

var intTypes = map[string]bool{
	"Int": true, "Int8": true, "Int16": true, "Int32": true, "Int64": true, "Int128": true, "Int256": true,
	"UInt": true, "UInt8": true, "UInt16": true, "UInt32": true, "UInt64": true, "UInt128": true, "UInt256": true,
	"Word8": true, "Word16": true, "Word32": true, "Word64": true,
}

var intRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// argument is fcl.arg(value, types[type]).asArgument as the SDK passes it
// (UInt64 values at the top level go through parseInt first), for the
// types gokms can check; anything else is refused.
func argument(a flowArg, top bool) ([]byte, error) {
	if a.Type == "Array" {
		var xs []json.RawMessage
		if err := json.Unmarshal(a.Value, &xs); err != nil {
			return nil, errors.New("Array value is not a JSON array")
		}
		if a.SubType == "Array" || a.SubType == "" {
			return nil, fmt.Errorf("Array of %q is not supported", a.SubType)
		}
		parts := make([][]byte, len(xs))
		for i, x := range xs {
			b, err := argument(flowArg{Type: a.SubType, Value: x}, false)
			if err != nil {
				return nil, fmt.Errorf("element %d: %v", i, err)
			}
			parts[i] = b
		}
		return cadenceJSON("Array", append(append([]byte{'['}, bytes.Join(parts, []byte{','})...), ']')), nil
	}
	var str string
	isStr := json.Unmarshal(a.Value, &str) == nil
	switch {
	case a.Type == "String":
		if !isStr {
			return nil, errors.New("String value is not a string")
		}
		return cadenceJSON("String", jsString(str)), nil
	case a.Type == "Address":
		if _, err := ParseAddress(str); !isStr || err != nil || len(str) != 18 {
			return nil, errors.New("Address value is not 0x and 16 hex characters")
		}
		return cadenceJSON("Address", jsString(str)), nil
	case a.Type == "Bool":
		var v bool
		if err := json.Unmarshal(a.Value, &v); err != nil {
			return nil, errors.New("Bool value is not true or false")
		}
		return cadenceJSON("Bool", []byte(strconv.FormatBool(v))), nil
	case a.Type == "UFix64" || a.Type == "Fix64":
		if !isStr {
			return nil, fmt.Errorf("%s value must be a string with a decimal point", a.Type)
		}
		ip, fp, ok := strings.Cut(str, ".")
		if !ok || fp == "" || len(fp) > 8 || !intRE.MatchString(ip) || strings.Trim(fp, "0123456789") != "" || a.Type == "UFix64" && strings.HasPrefix(ip, "-") {
			return nil, fmt.Errorf("%s value %q: want digits, a point and 1 to 8 decimals", a.Type, str)
		}
		return cadenceJSON(a.Type, jsString(ip+"."+fp+strings.Repeat("0", 8-len(fp)))), nil
	case intTypes[a.Type]:
		var v string
		if isStr {
			v = str
		} else {
			var n json.Number
			if err := json.Unmarshal(a.Value, &n); err != nil {
				return nil, fmt.Errorf("%s value is not an integer", a.Type)
			}
			v = n.String()
		}
		if !intRE.MatchString(v) || strings.HasPrefix(a.Type, "U") && strings.HasPrefix(v, "-") {
			return nil, fmt.Errorf("%s value %q is not a decimal integer", a.Type, v)
		}
		if top && a.Type == "UInt64" || !isStr {
			// parseInt / a JS number: exact only up to 2^53-1.
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n > 1<<53-1 || n < -(1<<53-1) {
				return nil, fmt.Errorf("%s value %s is beyond 2^53-1, which tatum-kms's parseInt would change", a.Type, v)
			}
		}
		return cadenceJSON(a.Type, jsString(v)), nil
	}
	return nil, fmt.Errorf("argument type %q is not supported", a.Type)
}

// cadenceJSON is JSON.stringify({type, value}).
func cadenceJSON(typ string, value []byte) []byte {
	b := []byte(`{"type":`)
	b = append(b, jsString(typ)...)
	b = append(b, `,"value":`...)
	b = append(b, value...)
	return append(b, '}')
}

// jsString is JSON.stringify of a string: only ", \ and control characters
// are escaped (Go's encoder also escapes <, >, &, U+2028 and U+2029).
// Invalid UTF-8 cannot come from JSON.parse and is replaced by U+FFFD on
// unmarshalling already.
func jsString(s string) []byte {
	b := []byte{'"'}
	for _, r := range s {
		switch r {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if r < 0x20 {
				b = append(b, fmt.Sprintf(`\u%04x`, r)...)
			} else {
				b = utf8.AppendRune(b, r)
			}
		}
	}
	return append(b, '"')
}
