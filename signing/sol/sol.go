// Package sol signs Solana pending transactions as tatum-kms 8.0.1 does
// (@tatumio/solana 2.2.100's kms.sign on @solana/web3.js 1.56.2): the
// pending transaction's serializedTransaction is {"txData": hex of a compiled
// legacy message made with a placeholder blockhash, "mintPK"?: the secret
// key of a new mint account}; the message is rebuilt with a fresh blockhash
// from a Solana node, signed by every wallet of the pending transaction (and
// the mint key), and sent to the node by gokms itself. Only the resulting
// transaction id goes to Tatum: POST /v3/solana/broadcast
// {"txData": Signed.TxID, "signatureId": id}.
//
// Before signing, the message is decoded and checked: legacy format, strict
// encoding, every required signer is a key gokms was given and every key
// gokms was given is a required signer, the fee payer is one of the
// wallets (not the mint), and each instruction is one of the few that
// tatum-kms's SDK builds (transfers, SPL token transfers and deployment,
// memos); anything else is refused with ErrRefused.
package sol

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/gokms/gokms/signing/internal/onejson"
	"github.com/gokms/gokms/wallet"
)

// ErrRefused is wrapped by every refusal: the pending transaction is not one
// gokms signs with these wallets. Nothing was signed.
var ErrRefused = errors.New("SOL transaction refused")

// PacketDataSize is the most a wire transaction may have (web3.js
// PACKET_DATA_SIZE, the network's limit).
const PacketDataSize = 1232

// Blockhash is a recent blockhash and the last block height at which a
// transaction made with it can land.
type Blockhash struct {
	Hash                 [32]byte
	LastValidBlockHeight uint64
}

// Signed is the result of Sign.
type Signed struct {
	Wire                 []byte // the signed wire transaction: what sendTransaction carries (base64)
	Message              []byte // the message every signature covers
	TxID                 string // base58 of the first (fee payer's) signature: the broadcast body's txData
	FeePayer             string
	Signers              []string // in signature order; the first is the fee payer
	Instructions         []Instruction
	LastValidBlockHeight uint64 // after this height the transaction can never land
}

type pendingJSON struct {
	TxData string  `json:"txData"`
	MintPK *string `json:"mintPK"`
}

// Sign rebuilds and signs a pending transaction with the wallets' keys
// (tatum-kms passes the privateKey of every wallet the pending transaction
// names, in its order) and the node's blockhash. keys are ed25519 keys
// (wallet.DecodeSolanaPrivateKey); the caller zeroes them. The mint key, if
// the pending transaction carries one, is decoded here and zeroed.
func Sign(serializedTransaction string, keys []ed25519.PrivateKey, bh Blockhash) (*Signed, error) {
	var p pendingJSON
	if err := onejson.Into(serializedTransaction, &p, false); err != nil {
		return nil, fmt.Errorf("%w: serializedTransaction is not the JSON tatum-kms's SDK reads ({\"txData\": hex, \"mintPK\"?: hex})", ErrRefused)
	}
	if p.TxData == "" {
		return nil, fmt.Errorf("%w: serializedTransaction has no txData", ErrRefused)
	}
	raw, err := hex.DecodeString(p.TxData)
	if err != nil {
		return nil, fmt.Errorf("%w: txData is not hex", ErrRefused)
	}
	if len(raw) > PacketDataSize {
		return nil, fmt.Errorf("%w: txData has %d bytes, more than a Solana transaction can", ErrRefused, len(raw))
	}
	msg, err := ParseMessage(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: txData is not a Solana message: %v", ErrRefused, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no wallet key to sign with", ErrRefused)
	}

	signers := map[PublicKey]ed25519.PrivateKey{}
	var order []PublicKey // web3.js dedupes signers, first one wins
	add := func(k ed25519.PrivateKey) {
		pub := PublicKey(k[32:])
		if _, ok := signers[pub]; !ok {
			signers[pub] = k
			order = append(order, pub)
		}
	}
	walletKeys := map[PublicKey]bool{}
	for i, k := range keys {
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("SOL sign: key %d has %d bytes, want an ed25519 key of 64", i+1, len(k))
		}
		add(k)
		walletKeys[PublicKey(k[32:])] = true
	}
	if p.MintPK != nil {
		mint, err := wallet.DecodeSolanaPrivateKey(*p.MintPK)
		if err != nil {
			return nil, fmt.Errorf("%w: mintPK: %v", ErrRefused, err)
		}
		defer wipe(mint)
		add(mint)
	}

	// The instructions are decoded from the message as given; the rebuilt
	// message has the same instructions over the same accounts, in another
	// index order.
	decoded := make([]Instruction, 0, len(msg.Instructions))
	for i, ix := range msg.Instructions {
		d, err := decodeInstruction(msg, ix)
		if err != nil {
			return nil, fmt.Errorf("%w: instruction %d: %v", ErrRefused, i+1, err)
		}
		decoded = append(decoded, d)
	}
	if !walletKeys[msg.AccountKeys[0]] {
		return nil, fmt.Errorf("%w: the fee payer %s is not one of this pending transaction's wallets", ErrRefused, msg.AccountKeys[0])
	}

	out, err := recompile(msg, bh.Hash, order)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	nsig := int(out.Header.NumRequiredSignatures)
	for _, k := range out.AccountKeys[:nsig] {
		if _, ok := signers[k]; !ok {
			return nil, fmt.Errorf("%w: the transaction needs the signature of %s, which is not among the wallets of this pending transaction", ErrRefused, k)
		}
	}
	body := out.Serialize()
	wire := appendCompactU16(make([]byte, 0, 3+64*nsig+len(body)), nsig)
	first := len(wire) // where the fee payer's signature starts
	s := &Signed{Message: body, FeePayer: out.AccountKeys[0].String(), LastValidBlockHeight: bh.LastValidBlockHeight}
	for _, k := range out.AccountKeys[:nsig] {
		wire = append(wire, ed25519.Sign(signers[k], body)...)
		s.Signers = append(s.Signers, k.String())
	}
	wire = append(wire, body...)
	if len(wire) > PacketDataSize {
		return nil, fmt.Errorf("%w: the signed transaction has %d bytes, more than the network's %d", ErrRefused, len(wire), PacketDataSize)
	}
	s.Wire = wire
	s.TxID = base58.Encode(wire[first : first+64])
	s.Instructions = decoded
	return s, nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
