package sol

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/base58"
)

// A legacy Solana message, the part of a transaction every signature covers
// (the wire format web3.js 1.56.2's Message.serialize writes):
//
//	header: numRequiredSignatures, numReadonlySignedAccounts, numReadonlyUnsignedAccounts (u8 each)
//	compact-u16 n, n account keys (32 bytes each)
//	recent blockhash (32 bytes)
//	compact-u16 m, m instructions: programIdIndex u8, compact-u16 k, k account indexes (u8), compact-u16 d, d data bytes
//
// Versioned (v0) messages start with a byte that has the top bit set; the
// SDK tatum-kms calls cannot read them (Message.from throws), neither does
// gokms.

// PublicKey is an ed25519 public key or a program/account address.
type PublicKey [32]byte

// String is the base58 form, as Solana writes addresses.
func (k PublicKey) String() string { return base58.Encode(k[:]) }

// Header is a message's account classification.
type Header struct {
	NumRequiredSignatures       uint8
	NumReadonlySignedAccounts   uint8
	NumReadonlyUnsignedAccounts uint8
}

// CompiledInstruction refers to accounts by their index in AccountKeys.
type CompiledInstruction struct {
	ProgramIDIndex uint8
	Accounts       []uint8
	Data           []byte
}

// Message is a decoded legacy message.
type Message struct {
	Header          Header
	AccountKeys     []PublicKey
	RecentBlockhash [32]byte
	Instructions    []CompiledInstruction
}

var errShort = errors.New("message ends early")

// ParseMessage decodes a legacy message strictly: every index in range, the
// header consistent with the keys, canonical lengths and nothing after the
// last instruction, so that the message gokms reads is exactly the bytes it
// was given. (web3.js's Message.from ignores trailing bytes and reads
// indexes past the end as undefined.)
func ParseMessage(b []byte) (*Message, error) {
	r := reader{b: b}
	var m Message
	h, err := r.bytes(3)
	if err != nil {
		return nil, err
	}
	if h[0]&0x80 != 0 {
		return nil, errors.New("a versioned (v0) message; tatum-kms's SDK and gokms sign legacy messages only")
	}
	m.Header = Header{h[0], h[1], h[2]}
	n, err := r.compactU16()
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		k, err := r.bytes(32)
		if err != nil {
			return nil, err
		}
		m.AccountKeys = append(m.AccountKeys, PublicKey(k))
	}
	bh, err := r.bytes(32)
	if err != nil {
		return nil, err
	}
	m.RecentBlockhash = [32]byte(bh)
	ni, err := r.compactU16()
	if err != nil {
		return nil, err
	}
	for i := 0; i < ni; i++ {
		var ix CompiledInstruction
		p, err := r.bytes(1)
		if err != nil {
			return nil, err
		}
		ix.ProgramIDIndex = p[0]
		na, err := r.compactU16()
		if err != nil {
			return nil, err
		}
		acc, err := r.bytes(na)
		if err != nil {
			return nil, err
		}
		ix.Accounts = append([]uint8(nil), acc...)
		nd, err := r.compactU16()
		if err != nil {
			return nil, err
		}
		d, err := r.bytes(nd)
		if err != nil {
			return nil, err
		}
		ix.Data = append([]byte(nil), d...)
		m.Instructions = append(m.Instructions, ix)
	}
	if r.off != len(b) {
		return nil, fmt.Errorf("%d bytes after the last instruction", len(b)-r.off)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Message) validate() error {
	n := len(m.AccountKeys)
	h := m.Header
	switch {
	case n == 0:
		return errors.New("no accounts")
	case n > 256:
		return fmt.Errorf("%d accounts; a message can index 256", n)
	case h.NumRequiredSignatures == 0:
		return errors.New("no required signatures (there is no fee payer)")
	case int(h.NumRequiredSignatures) > n:
		return fmt.Errorf("%d required signatures but %d accounts", h.NumRequiredSignatures, n)
	case h.NumReadonlySignedAccounts >= h.NumRequiredSignatures:
		return errors.New("the fee payer is read-only")
	case int(h.NumReadonlyUnsignedAccounts) > n-int(h.NumRequiredSignatures):
		return fmt.Errorf("%d read-only unsigned accounts but %d unsigned accounts", h.NumReadonlyUnsignedAccounts, n-int(h.NumRequiredSignatures))
	}
	seen := make(map[PublicKey]bool, n)
	for _, k := range m.AccountKeys {
		if seen[k] {
			return fmt.Errorf("account %s is listed twice", k)
		}
		seen[k] = true
	}
	for i, ix := range m.Instructions {
		if int(ix.ProgramIDIndex) >= n {
			return fmt.Errorf("instruction %d: program index %d, but %d accounts", i+1, ix.ProgramIDIndex, n)
		}
		if ix.ProgramIDIndex == 0 {
			return fmt.Errorf("instruction %d: the fee payer as program", i+1)
		}
		for _, a := range ix.Accounts {
			if int(a) >= n {
				return fmt.Errorf("instruction %d: account index %d, but %d accounts", i+1, a, n)
			}
		}
	}
	return nil
}

// IsSigner and IsWritable are web3.js's Message.isAccountSigner/isAccountWritable.
func (m *Message) IsSigner(i int) bool { return i < int(m.Header.NumRequiredSignatures) }

func (m *Message) IsWritable(i int) bool {
	h := m.Header
	ns := int(h.NumRequiredSignatures)
	return i < ns-int(h.NumReadonlySignedAccounts) ||
		(i >= ns && i < len(m.AccountKeys)-int(h.NumReadonlyUnsignedAccounts))
}

// Serialize is Message.serialize.
func (m *Message) Serialize() []byte {
	out := make([]byte, 0, 3+3+32*len(m.AccountKeys)+32+64*len(m.Instructions))
	out = append(out, m.Header.NumRequiredSignatures, m.Header.NumReadonlySignedAccounts, m.Header.NumReadonlyUnsignedAccounts)
	out = appendCompactU16(out, len(m.AccountKeys))
	for _, k := range m.AccountKeys {
		out = append(out, k[:]...)
	}
	out = append(out, m.RecentBlockhash[:]...)
	out = appendCompactU16(out, len(m.Instructions))
	for _, ix := range m.Instructions {
		out = append(out, ix.ProgramIDIndex)
		out = appendCompactU16(out, len(ix.Accounts))
		out = append(out, ix.Accounts...)
		out = appendCompactU16(out, len(ix.Data))
		out = append(out, ix.Data...)
	}
	return out
}

// appendCompactU16 is Solana's shortvec length (web3.js encodeLength): 7
// bits per byte, low bits first, the top bit set on all but the last byte.
func appendCompactU16(b []byte, n int) []byte {
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, errShort
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

// compactU16 reads a shortvec length, refusing non-canonical encodings (a
// zero top byte) and values above 2^16-1, as the Solana runtime does.
func (r *reader) compactU16() (int, error) {
	v := 0
	for i := 0; i < 3; i++ {
		c, err := r.bytes(1)
		if err != nil {
			return 0, err
		}
		v |= int(c[0]&0x7f) << (7 * i)
		if c[0]&0x80 == 0 {
			if i > 0 && c[0] == 0 {
				return 0, errors.New("a length is not in its shortest encoding")
			}
			if v > 0xffff {
				return 0, errors.New("a length above 65535")
			}
			return v, nil
		}
	}
	return 0, errors.New("a length longer than 3 bytes")
}
