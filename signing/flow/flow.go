package flow

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/gokms/gokms/wallet"
)

// Params are the injected settings of a signature.
type Params struct {
	Testnet bool
	// AllowCustom lets CUSTOM_TX pending transactions (arbitrary Cadence)
	// be signed; off by default.
	AllowCustom bool
	// PollInterval is how often the transaction's result is asked for until
	// it is sealed (tatum-kms waits for the seal too). 0 means one second.
	PollInterval time.Duration
}

// Result is a sent Flow transaction.
type Result struct {
	TxID        string
	ProposalKey uint64
	// Sealed is false when the context ended before the seal; the
	// transaction was sent all the same.
	Sealed bool
}

// ErrFailed is wrapped when the sealed transaction failed on chain.
var ErrFailed = errors.New("FLOW transaction failed")

// Sign is Prepare then Submit: it builds, signs, sends and waits for the
// seal in one call (the package's tests and tools; the daemon journals
// between the two, see Signer).
func Sign(ctx context.Context, in *Intent, key *btcec.PrivateKey, tatum Tatum, node AccessNode, p Params) (*Result, error) {
	prep, err := Prepare(ctx, in, key, tatum, node)
	if err != nil {
		return nil, err
	}
	return Submit(ctx, prep, tatum, node, p)
}

// Prepare builds the transaction an Intent asks for, signs its payload with
// key as the account's key 0 (as tatum-kms's getFlowSigner does), and has
// Tatum sign as proposer and payer, checking both signatures against the
// access node's account keys. Nothing is sent to the access node. A failure
// releases the proposal key at Tatum, as the SDK does when fcl.send throws;
// on success the key stays Tatum's until Submit reports the transaction.
func Prepare(ctx context.Context, in *Intent, key *btcec.PrivateKey, tatum Tatum, node AccessNode) (*Prepared, error) {
	const keyID = 0
	own, err := node.AccountKey(ctx, in.Account, keyID)
	if err != nil {
		return nil, err
	}
	if own.PublicKey != wallet.FlowPublicKeyHex(key.PubKey()) {
		return nil, fmt.Errorf("%w: key %d of account %s is not the wallet's key (the account has %s…); wrong account or wallet", ErrRefused, keyID, in.Account, short(own.PublicKey))
	}
	if own.Revoked || own.SigningAlgo != "ECDSA_secp256k1" || own.HashingAlgo != "SHA3_256" {
		return nil, fmt.Errorf("%w: key %d of account %s is revoked or not ECDSA_secp256k1/SHA3_256 (%s/%s)", ErrRefused, keyID, in.Account, own.SigningAlgo, own.HashingAlgo)
	}
	propAddr, propKey, err := tatum.ProposalKey(ctx, false)
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			_ = tatum.Report(context.WithoutCancel(ctx), "", "", &propKey)
		}
	}()
	payer, payerKey, err := tatum.ProposalKey(ctx, true)
	if err != nil {
		return nil, err
	}
	if propAddr == in.Account || payer == in.Account {
		return nil, fmt.Errorf("%w: Tatum named the wallet's own account %s as proposer or payer; gokms signs only as the authorizer", ErrRefused, in.Account)
	}
	prop, err := node.AccountKey(ctx, propAddr, propKey)
	if err != nil {
		return nil, err
	}
	payerAcct, err := node.AccountKey(ctx, payer, payerKey)
	if err != nil {
		return nil, err
	}
	ref, err := node.ReferenceBlock(ctx)
	if err != nil {
		return nil, err
	}
	tx := &Tx{
		Script: in.Script, Arguments: in.Arguments, RefBlock: ref, ComputeLimit: ComputeLimit,
		Proposal: ProposalKey{Address: propAddr, KeyID: propKey, SequenceNumber: prop.SequenceNumber},
		Payer:    payer, Authorizers: []Address{in.Account},
	}
	payload, err := tx.PayloadMessage()
	if err != nil {
		return nil, err
	}
	userSig := SignMessage(key, payload)
	propSig, err := tatum.SignWithKey(ctx, hex.EncodeToString(payload), false)
	if err != nil {
		return nil, err
	}
	if err := Verify(prop, payload, propSig); err != nil {
		return nil, fmt.Errorf("%w: Tatum's proposer signature (key %d of %s): %v", ErrRefused, propKey, propAddr, err)
	}
	// fcl lists the proposer's signature first in the REST body; the RLP
	// order is by signer index either way.
	payloadSigs := []Sig{{propAddr, propKey, propSig}, {in.Account, keyID, userSig}}
	envelope, err := tx.EnvelopeMessage(payloadSigs)
	if err != nil {
		return nil, err
	}
	paySig, err := tatum.SignWithKey(ctx, hex.EncodeToString(envelope), true)
	if err != nil {
		return nil, err
	}
	if err := Verify(payerAcct, envelope, paySig); err != nil {
		return nil, fmt.Errorf("%w: Tatum's payer signature (key %d of %s): %v", ErrRefused, payerKey, payer, err)
	}
	envelopeSigs := []Sig{{payer, payerKey, paySig}}
	id, err := tx.ID(payloadSigs, envelopeSigs)
	if err != nil {
		return nil, err
	}
	done = true
	return &Prepared{Tx: tx, PayloadSigs: payloadSigs, EnvelopeSigs: envelopeSigs, TxID: id}, nil
}

// ErrSendUnknown is wrapped when the access node could not be asked or
// did not answer: the transaction may have reached it. Sending the same
// Prepared again is safe (see Submit).
var ErrSendUnknown = errors.New("FLOW send outcome unknown")

// Submit sends a Prepared to the access node and waits for the seal, as
// fcl does. It may be called again with the same Prepared (a resend after
// a failure or a restart) and cannot make the transaction execute twice:
// Flow identifies a transaction by its id (the hash of exactly these
// bytes), which the network accepts once, and its proposal key's sequence
// number, which the execution consumes, so a second copy is rejected. Before
// posting, Submit asks the node whether it knows the id already, and then
// only waits for it. Once the node knows the transaction, the proposal key
// is released at Tatum ({txData: id, proposalKey}), as the SDK does.
func Submit(ctx context.Context, prep *Prepared, tatum Tatum, node AccessNode, p Params) (*Result, error) {
	id := prep.TxID
	propKey := prep.Tx.Proposal.KeyID
	res := &Result{TxID: id, ProposalKey: propKey}
	if _, _, err := node.Result(ctx, id); err != nil {
		got, sendErr := node.Send(ctx, prep.Tx, prep.PayloadSigs, prep.EnvelopeSigs)
		if sendErr != nil {
			if _, _, err := node.Result(ctx, id); err != nil {
				var he *HTTPError
				if errors.As(sendErr, &he) && he.Status/100 == 4 {
					// Refused: the key is free again for Tatum's next
					// transaction (a resend of these bytes then fails on
					// the sequence number at worst, never runs twice).
					_ = tatum.Report(context.WithoutCancel(ctx), "", "", &propKey)
					return nil, sendErr
				}
				return nil, fmt.Errorf("%w: %w", ErrSendUnknown, sendErr)
			}
		} else if got != id {
			_ = tatum.Report(context.WithoutCancel(ctx), id, "", &propKey)
			return res, fmt.Errorf("%w: the access node answered transaction id %s, but the transaction sent has id %s", ErrRefused, got, id)
		}
	}
	defer func() { _ = tatum.Report(context.WithoutCancel(ctx), id, "", &propKey) }()
	every := p.PollInterval
	if every <= 0 {
		every = time.Second
	}
	for {
		status, msg, err := node.Result(ctx, id)
		if err == nil && status == "Sealed" {
			if msg != "" {
				return res, fmt.Errorf("%w: %s: %s", ErrFailed, id, msg)
			}
			res.Sealed = true
			return res, nil
		}
		if err == nil && status == "Expired" {
			return res, fmt.Errorf("%w: %s expired before it was sealed", ErrFailed, id)
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("FLOW transaction %s sent, not sealed yet: %w", id, ctx.Err())
		case <-time.After(every):
		}
	}
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}
