package flow

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Prepared is a Flow transaction signed by every party (the wallet as
// authorizer, Tatum as proposer and payer) and not sent yet: what the
// daemon journals before anything leaves, and sends (Submit) afterwards,
// again with the same bytes after a failure or a restart.
type Prepared struct {
	Tx           *Tx
	PayloadSigs  []Sig
	EnvelopeSigs []Sig
	TxID         string // the Flow transaction id of exactly these bytes
}

// restTx is the access node's POST /v1/transactions body, as
// @onflow/transport-http's sendTransaction builds it.
type restTx struct {
	Script      string   `json:"script"`
	Arguments   []string `json:"arguments"`
	RefBlock    string   `json:"reference_block_id"`
	GasLimit    string   `json:"gas_limit"`
	Payer       string   `json:"payer"`
	ProposalKey struct {
		Address        string `json:"address"`
		KeyIndex       string `json:"key_index"`
		SequenceNumber string `json:"sequence_number"`
	} `json:"proposal_key"`
	Authorizers  []string  `json:"authorizers"`
	PayloadSigs  []restSig `json:"payload_signatures"`
	EnvelopeSigs []restSig `json:"envelope_signatures"`
}

func restBody(tx *Tx, payloadSigs, envelopeSigs []Sig) restTx {
	var b restTx
	b.Script = base64.StdEncoding.EncodeToString(tx.Script)
	b.Arguments = make([]string, len(tx.Arguments))
	for i, a := range tx.Arguments {
		b.Arguments[i] = base64.StdEncoding.EncodeToString(a)
	}
	b.RefBlock = hex.EncodeToString(tx.RefBlock[:])
	b.GasLimit = strconv.FormatUint(tx.ComputeLimit, 10)
	b.Payer = tx.Payer.Hex()
	b.ProposalKey.Address = tx.Proposal.Address.Hex()
	b.ProposalKey.KeyIndex = strconv.FormatUint(tx.Proposal.KeyID, 10)
	b.ProposalKey.SequenceNumber = strconv.FormatUint(tx.Proposal.SequenceNumber, 10)
	b.Authorizers = make([]string, len(tx.Authorizers))
	for i, a := range tx.Authorizers {
		b.Authorizers[i] = a.Hex()
	}
	b.PayloadSigs = restSigs(payloadSigs)
	b.EnvelopeSigs = restSigs(envelopeSigs)
	return b
}

// journaled is the form of a Prepared in the journal: the Flow id and the
// body the access node is sent.
type journaled struct {
	ID          string `json:"flowTxId"`
	Transaction restTx `json:"transaction"`
}

// Encode is the Prepared's journal form (JSON).
func (p *Prepared) Encode() (string, error) {
	b, err := json.Marshal(journaled{ID: p.TxID, Transaction: restBody(p.Tx, p.PayloadSigs, p.EnvelopeSigs)})
	if err != nil {
		return "", fmt.Errorf("flow: encode the signed transaction: %w", err)
	}
	return string(b), nil
}

// DecodePrepared reads what Encode wrote and checks that the bytes still
// have the Flow id recorded with them (a damaged journal entry is refused,
// never sent).
func DecodePrepared(raw string) (*Prepared, error) {
	var j journaled
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return nil, fmt.Errorf("flow: journaled transaction is not gokms's JSON: %w", err)
	}
	b := j.Transaction
	tx := &Tx{}
	var err error
	bad := func(what string) (*Prepared, error) {
		return nil, fmt.Errorf("flow: journaled transaction: bad %s", what)
	}
	if tx.Script, err = base64.StdEncoding.DecodeString(b.Script); err != nil {
		return bad("script")
	}
	for _, a := range b.Arguments {
		x, err := base64.StdEncoding.DecodeString(a)
		if err != nil {
			return bad("argument")
		}
		tx.Arguments = append(tx.Arguments, x)
	}
	rb, err := hex.DecodeString(b.RefBlock)
	if err != nil || len(rb) != 32 {
		return bad("reference block")
	}
	copy(tx.RefBlock[:], rb)
	if tx.ComputeLimit, err = strconv.ParseUint(b.GasLimit, 10, 64); err != nil {
		return bad("gas limit")
	}
	if tx.Payer, err = ParseAddress(b.Payer); err != nil {
		return bad("payer")
	}
	if tx.Proposal.Address, err = ParseAddress(b.ProposalKey.Address); err != nil {
		return bad("proposer")
	}
	if tx.Proposal.KeyID, err = strconv.ParseUint(b.ProposalKey.KeyIndex, 10, 64); err != nil {
		return bad("proposal key")
	}
	if tx.Proposal.SequenceNumber, err = strconv.ParseUint(b.ProposalKey.SequenceNumber, 10, 64); err != nil {
		return bad("sequence number")
	}
	for _, a := range b.Authorizers {
		x, err := ParseAddress(a)
		if err != nil {
			return bad("authorizer")
		}
		tx.Authorizers = append(tx.Authorizers, x)
	}
	sigs := func(rs []restSig) ([]Sig, error) {
		var out []Sig
		for _, r := range rs {
			a, err1 := ParseAddress(r.Address)
			k, err2 := strconv.ParseUint(r.KeyIndex, 10, 64)
			s, err3 := base64.StdEncoding.DecodeString(r.Signature)
			if err := errors.Join(err1, err2, err3); err != nil {
				return nil, err
			}
			out = append(out, Sig{a, k, s})
		}
		return out, nil
	}
	p := &Prepared{Tx: tx}
	if p.PayloadSigs, err = sigs(b.PayloadSigs); err != nil {
		return bad("payload signature")
	}
	if p.EnvelopeSigs, err = sigs(b.EnvelopeSigs); err != nil || len(p.EnvelopeSigs) == 0 {
		return bad("envelope signature")
	}
	if p.TxID, err = tx.ID(p.PayloadSigs, p.EnvelopeSigs); err != nil {
		return nil, fmt.Errorf("flow: journaled transaction: %w", err)
	}
	if !strings.EqualFold(p.TxID, j.ID) {
		return nil, fmt.Errorf("flow: journaled transaction has id %s, but was journaled as %s: refusing to send it", p.TxID, j.ID)
	}
	return p, nil
}
