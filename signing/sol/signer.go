package sol

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/signing/internal/onejson"
	"github.com/gokms/gokms/signing/internal/recordkey"
)

// DaemonNode is what the daemon's SOL signer asks of a Solana node: a
// blockhash and somewhere to send (Node), and, to decide about a journaled
// transaction, its signature's status and the block height. *RPC is one.
type DaemonNode interface {
	Node
	SignatureStatuses(ctx context.Context, sigs []string) ([]*SignatureStatus, error)
	BlockHeight(ctx context.Context) (uint64, error)
}

// Signer is the daemon's signing.Signer for SOL. It signs (Prepare) without
// sending: the daemon journals Signed.Raw, then calls Send, which hands the
// same bytes to the node and returns the signature, the txData tatum-kms
// posts to /v3/solana/broadcast. It is a signing.DetailedSigner (TxID: the
// fee payer's signature), a signing.Sender and a signing.TxFinder.
type Signer struct {
	Node      DaemonNode
	DecodeKey KeyDecoder
}

// NewSigner returns the SOL signer over node, whose wallets' records
// decode names keys.
func NewSigner(node DaemonNode, decode KeyDecoder) *Signer {
	return &Signer{Node: node, DecodeKey: decode}
}

// ErrExpired is wrapped by Send's error for a journaled transaction that
// can never land: the node's block height is past its last valid block
// height and the node does not know its signature. gokms does not sign the
// pending transaction again by itself (see the error's text).
var ErrExpired = errors.New("SOL transaction expired unsent")

// journaled is Signed.Raw: the signed wire transaction (base64, as
// sendTransaction carries it) and the last block height at which it can
// land, which Send needs to tell a transaction that may still land from
// one that never can.
type journaled struct {
	Transaction          string `json:"transaction"`
	LastValidBlockHeight uint64 `json:"lastValidBlockHeight"`
}

func (j journaled) decode() (wire []byte, sig string, err error) {
	wire, err = base64.StdEncoding.DecodeString(j.Transaction)
	if err != nil || len(wire) < 1+64 || wire[0] == 0 || wire[0]&0x80 != 0 {
		return nil, "", errors.New("journaled SOL transaction: not a signed wire transaction")
	}
	return wire, base58.Encode(wire[1:65]), nil
}

func parseJournaled(raw string) (journaled, []byte, string, error) {
	var j journaled
	if err := onejson.Into(raw, &j, true); err != nil {
		return j, nil, "", errors.New("journaled SOL transaction: not the JSON gokms journals ({\"transaction\", \"lastValidBlockHeight\"})")
	}
	wire, sig, err := j.decode()
	return j, wire, sig, err
}

// Sign implements signing.Signer.
func (s *Signer) Sign(ctx context.Context, req signing.Request, keys signing.KeySource) (string, error) {
	sd, err := s.SignDetailed(ctx, req, keys)
	return sd.Raw, err
}

// SignDetailed resolves the pending transaction's wallets from their stored
// records (keys must be a signing.RecordSource: the daemon's chain-bound
// view of its Resolver; DecodeKey decodes them), fetches a blockhash and signs. Nothing is sent.
func (s *Signer) SignDetailed(ctx context.Context, req signing.Request, keys signing.KeySource) (signing.Signed, error) {
	src := newRecordKeys(keys, s.DecodeKey)
	defer src.Wipe()
	sg, err := Prepare(ctx, s.Node, req, src)
	if err != nil {
		return signing.Signed{}, err
	}
	raw, err := json.Marshal(journaled{Transaction: base64.StdEncoding.EncodeToString(sg.Wire), LastValidBlockHeight: sg.LastValidBlockHeight})
	if err != nil {
		return signing.Signed{}, fmt.Errorf("SOL signer: encode the signed transaction: %w", err)
	}
	v := &signing.TxView{Chain: "SOL", Testnet: req.Testnet, From: sg.FeePayer}
	return signing.Signed{Raw: string(raw), TxID: sg.TxID, View: v}, nil
}

// Send hands the journaled transaction to the node and returns its
// signature. It is called again with the same raw after a failure or a
// restart: one signed transaction cannot land twice. A node that says the
// transaction was processed already, or that refuses it while its
// signature is known, means it landed. A refusal once the blockhash has
// expired, with the signature unknown, is ErrExpired. A transport failure
// (the node may have taken it) is signing.ErrSendAmbiguous.
func (s *Signer) Send(ctx context.Context, chain string, _ bool, raw string) (string, error) {
	if !strings.EqualFold(chain, "SOL") {
		return "", fmt.Errorf("SOL signer asked to send a %s transaction", chain)
	}
	j, wire, sig, err := parseJournaled(raw)
	if err != nil {
		return "", err
	}
	got, err := s.Node.SendTransaction(ctx, wire)
	if err == nil {
		if got != sig {
			return "", fmt.Errorf("%w: sent %s, node says %.100q", ErrSignatureMismatch, sig, got)
		}
		return sig, nil
	}
	var re *RPCError
	if !errors.As(err, &re) {
		return "", fmt.Errorf("%w: sending SOL transaction %s: %v", signing.ErrSendAmbiguous, sig, err)
	}
	if strings.Contains(re.Message, "already been processed") {
		return sig, nil
	}
	landed, expired, cerr := s.fate(ctx, sig, j.LastValidBlockHeight)
	switch {
	case cerr != nil:
		return "", fmt.Errorf("SOL node refused transaction %s: %w (and checking whether it can still land failed: %v)", sig, err, cerr)
	case landed:
		return sig, nil
	case expired:
		return "", fmt.Errorf("%w: transaction %s was signed with a blockhash valid up to block height %d, the node is past it and does not know the signature (%v). "+
			"gokms never signs a pending transaction twice, so it does not sign this one again with a new blockhash: check the fee payer's history on an explorer; "+
			"if the transaction is not there, `gokms journal forget <pending id> --yes` lets the next cycle sign it anew, or cancel it in Tatum (DELETE /v3/kms/<pending id>)",
			ErrExpired, sig, j.LastValidBlockHeight, err)
	}
	return "", fmt.Errorf("SOL node refused transaction %s: %w", sig, err)
}

// fate asks the node whether sig landed and whether a transaction valid up
// to lastValid can still land.
func (s *Signer) fate(ctx context.Context, sig string, lastValid uint64) (landed, expired bool, err error) {
	st, err := s.Node.SignatureStatuses(ctx, []string{sig})
	if err != nil {
		return false, false, err
	}
	if st[0] != nil {
		return true, false, nil
	}
	h, err := s.Node.BlockHeight(ctx)
	if err != nil {
		return false, false, err
	}
	if h <= lastValid {
		return false, false, nil
	}
	// The height passed first: a status read before it could have missed a
	// transaction that landed in between; ask again.
	st, err = s.Node.SignatureStatuses(ctx, []string{sig})
	if err != nil {
		return false, false, err
	}
	return st[0] != nil, st[0] == nil, nil
}

// FindTx implements signing.TxFinder: the daemon asks before it resends a
// journaled transaction. A signature the node knows at "processed" is
// pending; at "confirmed" or "finalized" mined (also when it failed on
// chain: it cannot land again).
func (s *Signer) FindTx(ctx context.Context, _ string, _ bool, txID string) (signing.TxState, error) {
	st, err := s.Node.SignatureStatuses(ctx, []string{txID})
	if err != nil {
		return signing.TxUnknown, err
	}
	switch {
	case st[0] == nil:
		return signing.TxNotFound, nil
	case st[0].ConfirmationStatus == "processed":
		return signing.TxPending, nil
	}
	return signing.TxMined, nil
}

// KeyDecoder is the daemon's record → key path for SOL: kms's key table
// (kms.RecordKeys.Ed25519Key, injected by kms.Signers, as signing/sol
// cannot import kms). tatum-kms's SOL entries: a private-key record's key
// (base58 of 64 bytes, no index); a mnemonic record's stored privateKey
// without an index (tatum-kms's generatemanagedwallet stores {mnemonic,
// address, privateKey} and signs with privateKey), with an index the
// mnemonic's key at m/44'/501'/index'/0'. A stored address must be the
// stored key's. The key is the caller's to wipe.
type KeyDecoder func(rec backend.Record, index *uint32) (ed25519.PrivateKey, error)

// recordKeys is the KeySource SOL signs with: records through the daemon's
// RecordSource, decoded by DecodeKey, wiped after the signature.
type recordKeys struct {
	*recordkey.Keys[ed25519.PrivateKey]
}

func newRecordKeys(rs signing.KeySource, decode KeyDecoder) recordKeys {
	return recordKeys{recordkey.New("SOL", rs, decode, func(k ed25519.PrivateKey) { wipe(k) })}
}

// Ed25519Key implements KeySource.
func (r recordKeys) Ed25519Key(ctx context.Context, id string, index *uint32) (ed25519.PrivateKey, error) {
	return r.Get(ctx, id, index)
}
