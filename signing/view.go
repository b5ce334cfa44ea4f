package signing

import (
	"context"
	"errors"
	"math/big"
)

// Signed is a signed transaction together with what it does, decoded from
// the signed bytes (not from the pending transaction's description), so an
// approver after signing (policy) judges exactly what would be broadcast.
type Signed struct {
	Raw  string  // what the chain's broadcast endpoint takes (hex)
	TxID string  // the chain transaction id, when the signer can compute it
	View *TxView // nil when the signer cannot decode its output
	// Release, if set, gives back what signing reserved elsewhere for this
	// transaction (FLOW: Tatum's proposal key). The daemon calls it when it
	// drops the signed bytes unsent and unjournaled (a refusal after
	// signing, a failed journal write); never once they are journaled.
	Release func(context.Context)
}

// TxView is the decoded content of a signed transaction.
type TxView struct {
	Chain   string
	Testnet bool

	// UTXO chains.
	Inputs  []TxInput
	Outputs []TxOutput
	Fee     *big.Int // inputs minus outputs (smallest unit), when input values are known

	// Account chains (EVM).
	From     string   // 0x address of the signing key
	To       string   // "" for contract creation
	Value    *big.Int // wei
	Data     []byte
	Nonce    *uint64
	Gas      uint64
	GasPrice *big.Int // legacy; nil for EIP-1559
	MaxFee   *big.Int // EIP-1559 fee cap; nil for legacy
	MaxTip   *big.Int
	ChainID  uint64
}

// TxInput is one spent output.
type TxInput struct {
	PrevTxID string
	Index    uint32
	Value    *big.Int // nil when unknown
}

// TxOutput is one created output.
type TxOutput struct {
	Address string // "" when the script has no standard address
	Script  string // hex
	Value   *big.Int
}

// DetailedSigner is a Signer that also returns the decoded transaction.
type DetailedSigner interface {
	SignDetailed(ctx context.Context, req Request, keys KeySource) (Signed, error)
}

// NonceSource hands out the nonce of an account-chain transaction (the
// daemon's journal): given the node's pending nonce for sender, the nonce to
// sign with. Signers call it only once every other check has passed.
type NonceSource interface {
	Nonce(ctx context.Context, chain string, testnet bool, sender string, pending uint64) (uint64, error)
}

// SignDetailed dispatches req to its chain's Signer; a Signer that is not a
// DetailedSigner gives a Signed with Raw only.
func (set *Set) SignDetailed(ctx context.Context, req Request, keys KeySource) (Signed, error) {
	s, err := set.For(req.Chain)
	if err != nil {
		return Signed{}, err
	}
	if ds, ok := s.(DetailedSigner); ok {
		return ds.SignDetailed(ctx, req, keys)
	}
	raw, err := s.Sign(ctx, req, keys)
	if err != nil {
		return Signed{}, err
	}
	return Signed{Raw: raw}, nil
}

// TxState is what a chain node knows of a transaction.
type TxState int

const (
	TxUnknown TxState = iota // the signer cannot look transactions up
	TxNotFound
	TxPending // in the node's pool
	TxMined
)

// TxFinder is a Signer that can ask its chain's node about a transaction
// (EVM); the daemon asks before resending journaled bytes.
type TxFinder interface {
	FindTx(ctx context.Context, chain string, testnet bool, txID string) (TxState, error)
}

// FindTx asks the chain's Signer about txID; TxUnknown when it cannot tell.
func (set *Set) FindTx(ctx context.Context, chain string, testnet bool, txID string) (TxState, error) {
	s, err := set.For(chain)
	if err != nil {
		return TxUnknown, err
	}
	f, ok := s.(TxFinder)
	if !ok || txID == "" {
		return TxUnknown, nil
	}
	return f.FindTx(ctx, chain, testnet, txID)
}

// Sender is a Signer whose chain takes the signed transaction from gokms
// itself rather than from Tatum's broadcast endpoint (Solana: tatum-kms
// sends to a node and posts only the txId). The daemon journals the signed
// bytes first, then calls Send, then posts what Send returns (the chain's
// txId) to Tatum's broadcast endpoint. Send is called again with the same
// raw bytes to resend them after a failure or a restart, so it must be safe
// to repeat: the chain must not apply one signed transaction twice.
type Sender interface {
	Send(ctx context.Context, chain string, testnet bool, raw string) (txData string, err error)
}

// ErrSendAmbiguous is wrapped by a Sender's error when the node may have
// taken the transaction (a timeout, a lost answer): the daemon leaves it
// for a later cycle, which asks before the same bytes are resent.
var ErrSendAmbiguous = errors.New("send outcome unknown")

// Send hands raw to the chain's Sender; sent is false (txData = raw) when
// the chain's Signer is not a Sender and Tatum broadcasts raw itself.
func (set *Set) Send(ctx context.Context, chain string, testnet bool, raw string) (txData string, sent bool, err error) {
	s, err := set.For(chain)
	if err != nil {
		return "", false, err
	}
	sd, ok := s.(Sender)
	if !ok {
		return raw, false, nil
	}
	txData, err = sd.Send(ctx, chain, testnet, raw)
	return txData, true, err
}
