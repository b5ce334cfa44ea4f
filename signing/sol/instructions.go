package sol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// The programs whose instructions gokms signs: what @tatumio/solana 2.2.100
// builds for SOL transfers, SPL token transfers (with the recipient's
// associated token account) and SPL token deployment, and memos.
var (
	SystemProgram     = mustKey("11111111111111111111111111111111")
	TokenProgram      = mustKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
	AssociatedTokenPr = mustKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
	MemoProgram       = mustKey("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
	MemoProgramV1     = mustKey("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo")
)

func mustKey(s string) PublicKey {
	b := base58.Decode(s)
	if len(b) != 32 {
		panic("bad program id " + s)
	}
	return PublicKey(b)
}

// Instruction is one decoded instruction, for logs, audit and policy.
type Instruction struct {
	Program  string   // "system", "spl-token", "associated-token", "memo"
	Type     string   // "transfer", "createAccount", "transferChecked", "initializeMint", "mintTo", "create", "createIdempotent", "memo"
	Accounts []string // base58, in the instruction's order
	Amount   uint64   `json:",omitempty"` // lamports or token base units
	Memo     string   `json:",omitempty"`
}

// decodeInstruction names what one instruction does, or refuses it. The
// allow-list is deliberately narrow: a System Assign or an SPL SetAuthority /
// Approve would hand the wallet's SOL or tokens to someone else in a
// transaction that moves nothing visibly, so anything not listed is refused.
func decodeInstruction(m *Message, ix CompiledInstruction) (Instruction, error) {
	prog := m.AccountKeys[ix.ProgramIDIndex]
	var d Instruction
	for _, a := range ix.Accounts {
		d.Accounts = append(d.Accounts, m.AccountKeys[a].String())
	}
	need := func(n int) error {
		if len(ix.Accounts) < n {
			return fmt.Errorf("%s %s with %d accounts; it takes %d", d.Program, d.Type, len(ix.Accounts), n)
		}
		return nil
	}
	data := ix.Data
	switch prog {
	case SystemProgram:
		d.Program = "system"
		if len(data) < 4 {
			return d, errors.New("a system instruction without its 4-byte type")
		}
		switch t := binary.LittleEndian.Uint32(data); {
		case t == 2 && len(data) == 12:
			d.Type, d.Amount = "transfer", binary.LittleEndian.Uint64(data[4:])
			return d, need(2)
		case t == 0 && len(data) == 52:
			d.Type, d.Amount = "createAccount", binary.LittleEndian.Uint64(data[4:])
			return d, need(2)
		default:
			return d, fmt.Errorf("system instruction type %d (%d bytes) is not one gokms signs (it signs transfers and account creation)", t, len(data))
		}
	case TokenProgram:
		d.Program = "spl-token"
		if len(data) == 0 {
			return d, errors.New("an SPL token instruction without data")
		}
		switch t := data[0]; {
		case t == 3 && len(data) == 9:
			d.Type, d.Amount = "transfer", binary.LittleEndian.Uint64(data[1:])
			return d, need(3)
		case t == 12 && len(data) == 10:
			d.Type, d.Amount = "transferChecked", binary.LittleEndian.Uint64(data[1:])
			return d, need(4)
		case t == 0 && len(data) == 67:
			d.Type = "initializeMint"
			return d, need(2)
		case t == 7 && len(data) == 9:
			d.Type, d.Amount = "mintTo", binary.LittleEndian.Uint64(data[1:])
			return d, need(3)
		default:
			return d, fmt.Errorf("SPL token instruction %d (%d bytes) is not one gokms signs (it signs transfer, transferChecked, initializeMint and mintTo)", t, len(data))
		}
	case AssociatedTokenPr:
		d.Program = "associated-token"
		switch {
		case len(data) == 0 || (len(data) == 1 && data[0] == 0):
			d.Type = "create"
		case len(data) == 1 && data[0] == 1:
			d.Type = "createIdempotent"
		default:
			return d, fmt.Errorf("associated token instruction %x is not one gokms signs (it signs account creation)", data)
		}
		return d, need(6)
	case MemoProgram, MemoProgramV1:
		d.Program, d.Type = "memo", "memo"
		if !utf8.Valid(data) {
			return d, errors.New("a memo that is not UTF-8 (the memo program would fail it)")
		}
		d.Memo = string(data)
		return d, nil
	}
	return d, fmt.Errorf("program %s is not one gokms signs for (it signs the system, SPL token, associated token account and memo programs, what tatum-kms's SDK builds for transfers and token deployment)", prog)
}
