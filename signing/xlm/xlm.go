// Package xlm signs Stellar pending transactions as tatum-kms 8.0.1 does
// (@tatumio/xlm's kms.sign: stellar-sdk's TransactionBuilder.fromXDR(
// serializedTransaction, passphrase), sign(Keypair.fromSecret(secret)),
// toEnvelope().toXDR() in base64), after checking what it signs.
//
// The broadcast body is {"txData": Signed.TxData, "signatureId": id}, posted
// to /v3/xlm/broadcast. Nothing is fetched at signing time: the sequence
// number and fee are in the envelope Tatum built.
package xlm

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/stellar/go-stellar-sdk/amount"
	"github.com/stellar/go-stellar-sdk/network"
	"github.com/stellar/go-stellar-sdk/xdr"
)

// The network passphrases tatum-kms picks with --testnet (stellar-sdk's
// Networks.PUBLIC and Networks.TESTNET).
const (
	MainnetPassphrase = network.PublicNetworkPassphrase
	TestnetPassphrase = network.TestNetworkPassphrase
)

// ErrRefused is wrapped by every refusal: the transaction is not one gokms
// signs with this wallet. Nothing was signed.
var ErrRefused = errors.New("XLM transaction refused")

// maxEnvelope bounds the input: Stellar Core refuses envelopes above 100 kB
// anyway, and the decoder must not allocate on an attacker's word.
const maxEnvelope = 100 << 10

// Passphrase is the network passphrase of mainnet or testnet.
func Passphrase(testnet bool) string {
	if testnet {
		return TestnetPassphrase
	}
	return MainnetPassphrase
}

// Operation is one decoded operation, for logs, audit and policy.
type Operation struct {
	Type        string // "payment", "createAccount", "changeTrust"
	Destination string `json:",omitempty"` // payment and createAccount
	Asset       string `json:",omitempty"` // "native" or "CODE:ISSUER"
	Amount      string `json:",omitempty"` // in XLM/asset units, 7 decimals; a trust line's limit
}

// Signed is the result of Sign.
type Signed struct {
	TxData     string   // the signed envelope, base64 XDR: the broadcast body's txData
	Hash       [32]byte // the transaction hash (the id Horizon shows), network-bound
	Envelope   string   // "v0", "v1" or "feeBump"
	Source     string   // the wallet's address: the source (or fee-bump fee source)
	Fee        int64    // stroops
	Sequence   int64    // the (inner) transaction's sequence number
	Memo       string   // "", "text:...", "id:...", "hash:<hex>", "return:<hex>"
	Operations []Operation
}

// HashHex is the hash as Horizon prints it.
func (s *Signed) HashHex() string { return hex.EncodeToString(s.Hash[:]) }

// Sign checks serializedTransaction (a base64 TransactionEnvelope, as
// Tatum's pending transaction carries it) against the wallet's key and signs
// it for mainnet or testnet. Checks, each of which refuses with ErrRefused:
//   - canonical base64 and XDR, nothing trailing (the bytes decoded are the
//     bytes signed);
//   - the source account (for a fee bump, the fee source) is the wallet's, and
//     no operation names another source account;
//   - only payments, account creations and trust lines (what Tatum's XLM API
//     builds); anything else, such as setOptions, which could hand the
//     account to someone else, is refused;
//   - the wallet has not signed it already, and there is room for a signature.
//
// key is the wallet's ed25519 key (wallet.DecodeStellarSecret); the caller
// zeroes it.
func Sign(serializedTransaction string, key ed25519.PrivateKey, testnet bool) (*Signed, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("XLM sign: the key has %d bytes, want an ed25519 key of 64", len(key))
	}
	pub := key.Public().(ed25519.PublicKey)
	env, err := decode(serializedTransaction)
	if err != nil {
		return nil, err
	}
	s, err := check(env, pub)
	if err != nil {
		return nil, err
	}
	passphrase := Passphrase(testnet)
	hash, err := network.HashTransactionInEnvelope(env, passphrase)
	if err != nil {
		return nil, fmt.Errorf("XLM sign: hash: %w", err)
	}
	sigs := envelopeSignatures(&env)
	for _, ds := range *sigs {
		if bytes.Equal(ds.Hint[:], pub[28:]) && ed25519.Verify(pub, hash[:], ds.Signature) {
			return nil, fmt.Errorf("%w: the wallet %s has signed this transaction already; a second signature would make Stellar reject it", ErrRefused, s.Source)
		}
	}
	if len(*sigs) >= 20 {
		return nil, fmt.Errorf("%w: the envelope holds 20 signatures already, the most Stellar allows", ErrRefused)
	}
	var hint xdr.SignatureHint
	copy(hint[:], pub[28:])
	*sigs = append(*sigs, xdr.DecoratedSignature{Hint: hint, Signature: ed25519.Sign(key, hash[:])})
	out, err := env.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("XLM sign: encode the signed envelope: %w", err)
	}
	s.TxData = base64.StdEncoding.EncodeToString(out)
	s.Hash = hash
	return s, nil
}

func decode(serialized string) (xdr.TransactionEnvelope, error) {
	var env xdr.TransactionEnvelope
	if len(serialized) == 0 {
		return env, fmt.Errorf("%w: serializedTransaction is empty; want a base64 XDR TransactionEnvelope", ErrRefused)
	}
	if len(serialized) > base64.StdEncoding.EncodedLen(maxEnvelope) {
		return env, fmt.Errorf("%w: serializedTransaction has %d characters, more than a Stellar envelope can", ErrRefused, len(serialized))
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(serialized)
	if err != nil {
		return env, fmt.Errorf("%w: serializedTransaction is not standard base64 (%v); want a base64 XDR TransactionEnvelope", ErrRefused, err)
	}
	if err := xdr.SafeUnmarshal(raw, &env); err != nil {
		return env, fmt.Errorf("%w: serializedTransaction is not a Stellar TransactionEnvelope: %v", ErrRefused, err)
	}
	again, err := env.MarshalBinary()
	if err != nil || !bytes.Equal(again, raw) {
		return env, fmt.Errorf("%w: the envelope's XDR is not canonical (it does not encode back to the same bytes), so what would be signed is not what was sent", ErrRefused)
	}
	return env, nil
}

func envelopeSignatures(env *xdr.TransactionEnvelope) *[]xdr.DecoratedSignature {
	switch env.Type {
	case xdr.EnvelopeTypeEnvelopeTypeTxV0:
		return &env.V0.Signatures
	case xdr.EnvelopeTypeEnvelopeTypeTx:
		return &env.V1.Signatures
	default:
		return &env.FeeBump.Signatures
	}
}

func check(env xdr.TransactionEnvelope, pub ed25519.PublicKey) (*Signed, error) {
	s := &Signed{}
	walletAddr := accountString(muxed(pub))
	switch env.Type {
	case xdr.EnvelopeTypeEnvelopeTypeTxV0:
		s.Envelope = "v0"
	case xdr.EnvelopeTypeEnvelopeTypeTx:
		s.Envelope = "v1"
	case xdr.EnvelopeTypeEnvelopeTypeTxFeeBump:
		s.Envelope = "feeBump"
	default:
		return nil, fmt.Errorf("%w: envelope type %d is not a transaction", ErrRefused, env.Type)
	}
	payer := env.FeeAccount()
	if !sameKey(payer, pub) {
		role := "source account"
		if env.IsFeeBump() {
			role = "fee-bump fee source"
		}
		return nil, fmt.Errorf("%w: its %s is %s, not this wallet's %s", ErrRefused, role, accountString(payer), walletAddr)
	}
	s.Source = walletAddr
	if env.IsFeeBump() {
		s.Fee = env.FeeBumpFee()
	} else {
		s.Fee = int64(env.Fee())
	}
	s.Sequence = env.SeqNum()
	ops := env.Operations()
	memo := env.Memo()
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: it has no operations", ErrRefused)
	}
	for i, op := range ops {
		// A fee bump's signature pays the fee only; its inner operations are
		// authorized by the inner transaction's own signatures.
		if !env.IsFeeBump() && op.SourceAccount != nil && !sameKey(*op.SourceAccount, pub) {
			return nil, fmt.Errorf("%w: operation %d acts for account %s, not this wallet's %s", ErrRefused, i+1, accountString(*op.SourceAccount), walletAddr)
		}
		d, err := describe(op.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: operation %d: %v", ErrRefused, i+1, err)
		}
		s.Operations = append(s.Operations, d)
	}
	m, err := memoString(memo)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	s.Memo = m
	return s, nil
}

func muxed(pub ed25519.PublicKey) xdr.MuxedAccount {
	var u xdr.Uint256
	copy(u[:], pub)
	return xdr.MuxedAccount{Type: xdr.CryptoKeyTypeKeyTypeEd25519, Ed25519: &u}
}

func sameKey(m xdr.MuxedAccount, pub ed25519.PublicKey) bool {
	id := m.ToAccountId()
	k, ok := id.GetEd25519()
	return ok && bytes.Equal(k[:], pub)
}

func accountString(m xdr.MuxedAccount) string {
	a, err := m.GetAddress()
	if err != nil {
		return "(an account of an unknown key type)"
	}
	return a
}

func assetString(a xdr.Asset) string {
	if a.Type == xdr.AssetTypeAssetTypeNative {
		return "native"
	}
	return a.StringCanonical()
}

func describe(b xdr.OperationBody) (Operation, error) {
	switch b.Type {
	case xdr.OperationTypePayment:
		p := b.MustPaymentOp()
		return Operation{Type: "payment", Destination: accountString(p.Destination), Asset: assetString(p.Asset), Amount: amount.String(p.Amount)}, nil
	case xdr.OperationTypeCreateAccount:
		c := b.MustCreateAccountOp()
		return Operation{Type: "createAccount", Destination: c.Destination.Address(), Asset: "native", Amount: amount.String(c.StartingBalance)}, nil
	case xdr.OperationTypeChangeTrust:
		c := b.MustChangeTrustOp()
		if c.Line.Type == xdr.AssetTypeAssetTypePoolShare {
			return Operation{}, errors.New("a trust line to a liquidity pool is not one gokms signs (Tatum's trust line API makes asset trust lines)")
		}
		return Operation{Type: "changeTrust", Asset: assetString(c.Line.ToAsset()), Amount: amount.String(c.Limit)}, nil
	default:
		return Operation{}, fmt.Errorf("a %s is not one gokms signs for XLM (it signs payments, account creations and trust lines, what Tatum's XLM API builds)", b.Type.String())
	}
}

func memoString(m xdr.Memo) (string, error) {
	switch m.Type {
	case xdr.MemoTypeMemoNone:
		return "", nil
	case xdr.MemoTypeMemoText:
		t := m.MustText()
		if !utf8.ValidString(t) {
			return "text:" + hex.EncodeToString([]byte(t)), nil
		}
		return "text:" + t, nil
	case xdr.MemoTypeMemoId:
		return fmt.Sprintf("id:%d", uint64(m.MustId())), nil
	case xdr.MemoTypeMemoHash:
		h := m.MustHash()
		return "hash:" + hex.EncodeToString(h[:]), nil
	case xdr.MemoTypeMemoReturn:
		h := m.MustRetHash()
		return "return:" + hex.EncodeToString(h[:]), nil
	}
	return "", fmt.Errorf("memo type %d is unknown", m.Type)
}
