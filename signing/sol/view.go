package sol

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/onejson"
)

// ViewFamily is the signing.View family of Solana transactions.
const ViewFamily = "sol"

// LamportsPerSignature is the base fee of each signature on every Solana
// cluster gokms signs for (mainnet-beta, devnet, testnet).
const LamportsPerSignature = 5000

// DecodeView decodes what the SOL signer journals (Signed.Raw:
// {"transaction": base64 wire, "lastValidBlockHeight": n}) into a
// signing.View for policy and audit: every signature must be the required
// signer's over the message, which is decoded with ParseMessage and the
// signer's instruction decoder. Without signed (before signing), the
// pending transaction's message (serialized's txData) is decoded instead.
//
// System transfers are outputs in lamports; createAccount funds a new
// account (an output to it). SPL token transfers are outputs in the token's
// base units to the destination token account (Token: the mint where the
// transaction names it, transferChecked or the recipient's associated
// account created alongside) and complete: the policy limits them per mint
// (tokens:, docs/policy.md). A plain transfer whose mint the transaction
// does not name has the source token account as Token and is Unknown (the
// mint is only on chain). Token deployment
// (initializeMint, mintTo) and any instruction the signer would refuse are
// Unknown. Inputs: each account that sends lamports. Fee: 5000 lamports per
// signature (no compute-budget priority fee: the signer refuses that
// program). Memos are ignored.
func DecodeView(chain string, testnet bool, serialized, signed string) (*signing.View, error) {
	if !strings.EqualFold(strings.TrimSpace(chain), "SOL") {
		return nil, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	if strings.TrimSpace(signed) == "" {
		var p pendingJSON
		if err := onejson.Into(serialized, &p, false); err != nil || p.TxData == "" {
			return nil, fmt.Errorf("SOL: serializedTransaction is not {\"txData\": hex, \"mintPK\"?: hex}")
		}
		raw, err := hex.DecodeString(p.TxData)
		if err != nil {
			return nil, fmt.Errorf("SOL: txData is not hex")
		}
		m, err := ParseMessage(raw)
		if err != nil {
			return nil, fmt.Errorf("SOL: txData is not a Solana message: %w", err)
		}
		return viewOf(m, false, ""), nil
	}
	_, wire, sig, err := parseJournaled(signed)
	if err != nil {
		return nil, fmt.Errorf("SOL: %w", err)
	}
	r := &reader{b: wire}
	n, err := r.compactU16()
	if err != nil {
		return nil, fmt.Errorf("SOL: signed transaction: %w", err)
	}
	sigs, err := r.bytes(64 * n)
	if err != nil {
		return nil, fmt.Errorf("SOL: signed transaction: %w", err)
	}
	body := wire[r.off:]
	m, err := ParseMessage(body)
	if err != nil {
		return nil, fmt.Errorf("SOL: signed transaction: %w", err)
	}
	if n != int(m.Header.NumRequiredSignatures) {
		return nil, fmt.Errorf("SOL: the signed transaction has %d signatures, its message requires %d", n, m.Header.NumRequiredSignatures)
	}
	for i := 0; i < n; i++ {
		if !ed25519.Verify(ed25519.PublicKey(m.AccountKeys[i][:]), body, sigs[64*i:64*i+64]) {
			return nil, fmt.Errorf("SOL: signature %d is not %s's over the message", i+1, m.AccountKeys[i])
		}
	}
	return viewOf(m, true, sig), nil
}

func viewOf(m *Message, signed bool, txID string) *signing.View {
	v := &signing.View{Chain: "SOL", Family: ViewFamily, Signed: signed, TxID: txID, Method: signing.MethodTransfer,
		Fee: big.NewInt(LamportsPerSignature * int64(m.Header.NumRequiredSignatures))}
	sent := map[string]*big.Int{}
	var order []string
	from := func(a string, amt uint64) {
		if sent[a] == nil {
			sent[a] = new(big.Int)
			order = append(order, a)
		}
		sent[a].Add(sent[a], new(big.Int).SetUint64(amt))
	}
	// The fee payer spends the fee even when it sends nothing.
	from(m.AccountKeys[0].String(), 0)
	// An associated token account created in the same transaction names
	// its mint: the token of a plain transfer to it.
	mintOf := map[string]string{}
	for _, ix := range m.Instructions {
		if d, err := decodeInstruction(m, ix); err == nil && d.Program == "associated-token" {
			mintOf[d.Accounts[1]] = d.Accounts[3]
		}
	}
	for i, ix := range m.Instructions {
		d, err := decodeInstruction(m, ix)
		if err != nil {
			v.Method = signing.MethodCall
			v.Unknown = append(v.Unknown, fmt.Sprintf("SOL: instruction %d: %v", i+1, err))
			continue
		}
		switch d.Program + "." + d.Type {
		case "system.transfer", "system.createAccount":
			from(d.Accounts[0], d.Amount)
			v.Outputs = append(v.Outputs, signing.Flow{Address: d.Accounts[1], Amount: new(big.Int).SetUint64(d.Amount)})
		case "spl-token.transfer", "spl-token.transferChecked":
			src, dst, token, named := d.Accounts[0], d.Accounts[1], d.Accounts[0], true
			if d.Type == "transferChecked" {
				dst, token = d.Accounts[2], d.Accounts[1]
			} else if mint, ok := mintOf[dst]; ok {
				token = mint
			} else {
				named = false
			}
			v.Token = token
			v.Outputs = append(v.Outputs, signing.Flow{Address: dst, Amount: new(big.Int).SetUint64(d.Amount), Token: token})
			if !named {
				v.Unknown = append(v.Unknown, fmt.Sprintf("SOL: SPL token transfer from token account %s: the transaction does not name the mint (no transferChecked, no associated account created for it)", src))
			}
		case "spl-token.initializeMint", "spl-token.mintTo":
			v.Unknown = append(v.Unknown, "SOL: SPL token deployment ("+d.Type+")")
		case "associated-token.create", "associated-token.createIdempotent", "memo.memo":
			// Creating the recipient's token account (its rent is paid by
			// the payer, at most the fee-like rent exemption); a memo.
		default:
			v.Unknown = append(v.Unknown, "SOL: "+d.Program+" "+d.Type)
		}
	}
	for _, a := range order {
		v.Inputs = append(v.Inputs, signing.Flow{Address: a, Amount: sent[a]})
	}
	return v
}
