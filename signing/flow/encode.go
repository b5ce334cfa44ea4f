// Package flow signs Flow pending transactions as tatum-kms 8.0.1 does
// (@tatumio/tatum 1.37.56's flowSignKMSTransaction through @onflow/fcl
// 1.12.3): the wallet's account is the single authorizer and signs the
// transaction payload; Tatum's API is the proposer (GET
// /v3/flow/proposal/false, POST /v3/flow/sign isPayer=false) and the payer
// (GET /v3/flow/proposal/true, POST /v3/flow/sign isPayer=true, over the
// envelope); the result goes to a Flow access node (REST API), and the
// transaction id is reported to Tatum (POST /v3/flow/broadcast). gokms builds
// the Cadence code and arguments itself from the pending transaction, so what
// its key signs is exactly what the pending transaction asks.
package flow

import (
	"encoding/hex"
	"fmt"

	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/crypto/sha3"
)

// domainTag is "FLOW-V0.0-transaction" right-padded with zeros to 32 bytes,
// prefixed to every transaction message that is signed.
var domainTag = func() []byte {
	b := make([]byte, 32)
	copy(b, "FLOW-V0.0-transaction")
	return b
}()

// Address is a Flow account address.
type Address [8]byte

// ParseAddress reads "0x" + 16 hex characters (or fewer: leading zeros may
// be dropped, as fcl left-pads them).
func ParseAddress(s string) (Address, error) {
	var a Address
	h := s
	if len(h) >= 2 && (h[:2] == "0x" || h[:2] == "0X") {
		h = h[2:]
	}
	if h == "" || len(h) > 16 {
		return a, fmt.Errorf("Flow address %q: want 0x and 16 hex characters", s)
	}
	if len(h)%2 == 1 {
		h = "0" + h
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return a, fmt.Errorf("Flow address %q: not hex", s)
	}
	copy(a[8-len(b):], b)
	return a, nil
}

func (a Address) String() string { return "0x" + hex.EncodeToString(a[:]) }

// Hex is the address without 0x, as the access node's REST API writes it.
func (a Address) Hex() string { return hex.EncodeToString(a[:]) }

// ProposalKey is the key whose sequence number the transaction uses.
type ProposalKey struct {
	Address        Address
	KeyID          uint64
	SequenceNumber uint64
}

// Tx is a Flow transaction body (the "payload").
type Tx struct {
	Script       []byte
	Arguments    [][]byte // JSON-Cadence values, as fcl writes them
	RefBlock     [32]byte
	ComputeLimit uint64
	Proposal     ProposalKey
	Payer        Address
	Authorizers  []Address
}

// Sig is one signature of a transaction.
type Sig struct {
	Address Address
	KeyID   uint64
	Sig     []byte
}

func (t *Tx) payloadFields() []any {
	args := make([]any, len(t.Arguments))
	for i, a := range t.Arguments {
		args[i] = a
	}
	auth := make([]any, len(t.Authorizers))
	for i, a := range t.Authorizers {
		auth[i] = a[:]
	}
	return []any{t.Script, args, t.RefBlock[:], t.ComputeLimit, t.Proposal.Address[:], t.Proposal.KeyID, t.Proposal.SequenceNumber, t.Payer[:], auth}
}

// signerIndex is @onflow/sdk's collectSigners: proposer, payer, then the
// authorizers, each address once, in that order.
func (t *Tx) signerIndex() map[Address]uint64 {
	m := map[Address]uint64{}
	add := func(a Address) {
		if _, ok := m[a]; !ok {
			m[a] = uint64(len(m))
		}
	}
	add(t.Proposal.Address)
	add(t.Payer)
	for _, a := range t.Authorizers {
		add(a)
	}
	return m
}

// sigFields sorts signatures by signer index, then key id, as the SDK does.
func (t *Tx) sigFields(sigs []Sig) ([]any, error) {
	idx := t.signerIndex()
	type entry struct {
		i, key uint64
		sig    []byte
	}
	es := make([]entry, 0, len(sigs))
	for _, s := range sigs {
		i, ok := idx[s.Address]
		if !ok {
			return nil, fmt.Errorf("signature by %s, which is not a signer of the transaction", s.Address)
		}
		es = append(es, entry{i, s.KeyID, s.Sig})
	}
	for i := 1; i < len(es); i++ { // insertion sort: stable, like Array.prototype.sort
		for j := i; j > 0 && (es[j-1].i > es[j].i || es[j-1].i == es[j].i && es[j-1].key > es[j].key); j-- {
			es[j-1], es[j] = es[j], es[j-1]
		}
	}
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = []any{e.i, e.key, e.sig}
	}
	return out, nil
}

func tagged(v any) ([]byte, error) {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		return nil, fmt.Errorf("flow: RLP: %w", err)
	}
	return append(append([]byte{}, domainTag...), b...), nil
}

// PayloadMessage is encodeTransactionPayload: tag || RLP(payload), what
// the proposer and the authorizers sign.
func (t *Tx) PayloadMessage() ([]byte, error) { return tagged(t.payloadFields()) }

// EnvelopeMessage is encodeTransactionEnvelope: tag || RLP([payload,
// payload signatures]), what the payer signs.
func (t *Tx) EnvelopeMessage(payloadSigs []Sig) ([]byte, error) {
	ps, err := t.sigFields(payloadSigs)
	if err != nil {
		return nil, err
	}
	return tagged([]any{t.payloadFields(), ps})
}

// ID is encodeTxIdFromVoucher: SHA3-256(RLP([payload, payload signatures,
// envelope signatures])), the transaction id the access node answers.
func (t *Tx) ID(payloadSigs, envelopeSigs []Sig) (string, error) {
	ps, err := t.sigFields(payloadSigs)
	if err != nil {
		return "", err
	}
	es, err := t.sigFields(envelopeSigs)
	if err != nil {
		return "", err
	}
	b, err := rlp.EncodeToBytes([]any{t.payloadFields(), ps, es})
	if err != nil {
		return "", fmt.Errorf("flow: RLP: %w", err)
	}
	h := sha3.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}
