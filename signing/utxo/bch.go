package utxo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

// sigHashAllForkID is SIGHASH_ALL | SIGHASH_FORKID with fork id 0, the only
// hash type Bitcoin Cash wallets (and @tatumio/tatum) sign with.
const sigHashAllForkID = 0x41

// bchDigest holds the per-transaction parts of Bitcoin Cash's
// replay-protected signature digest (the BIP143 layout, mandatory on BCH
// since the 2017 fork, spec "UAHF" / replay-protected-sighash.md): they are
// computed once and reused for every input.
type bchDigest struct {
	tx                                     *wire.MsgTx
	hashPrevouts, hashSequence, hashOutput [32]byte
}

func dsha(b []byte) [32]byte {
	h := sha256.Sum256(b)
	return sha256.Sum256(h[:])
}

func newBCHDigest(tx *wire.MsgTx) *bchDigest {
	d := &bchDigest{tx: tx}
	var b bytes.Buffer
	var u4 [4]byte
	for _, in := range tx.TxIn {
		b.Write(in.PreviousOutPoint.Hash[:])
		binary.LittleEndian.PutUint32(u4[:], in.PreviousOutPoint.Index)
		b.Write(u4[:])
	}
	d.hashPrevouts = dsha(b.Bytes())
	b.Reset()
	for _, in := range tx.TxIn {
		binary.LittleEndian.PutUint32(u4[:], in.Sequence)
		b.Write(u4[:])
	}
	d.hashSequence = dsha(b.Bytes())
	b.Reset()
	for _, out := range tx.TxOut {
		// value (8 LE) || varint length || script, as in the serialization.
		_ = wire.WriteTxOut(&b, 0, 0, out)
	}
	d.hashOutput = dsha(b.Bytes())
	return d
}

// sighash returns the SIGHASH_ALL|FORKID digest of input i, which spends
// amount satoshis locked by scriptCode.
func (d *bchDigest) sighash(i int, scriptCode []byte, amount int64) [32]byte {
	tx := d.tx
	in := tx.TxIn[i]
	var b bytes.Buffer
	var u4 [4]byte
	var u8 [8]byte
	binary.LittleEndian.PutUint32(u4[:], uint32(tx.Version))
	b.Write(u4[:])
	b.Write(d.hashPrevouts[:])
	b.Write(d.hashSequence[:])
	b.Write(in.PreviousOutPoint.Hash[:])
	binary.LittleEndian.PutUint32(u4[:], in.PreviousOutPoint.Index)
	b.Write(u4[:])
	_ = wire.WriteVarBytes(&b, 0, scriptCode)
	binary.LittleEndian.PutUint64(u8[:], uint64(amount))
	b.Write(u8[:])
	binary.LittleEndian.PutUint32(u4[:], in.Sequence)
	b.Write(u4[:])
	b.Write(d.hashOutput[:])
	binary.LittleEndian.PutUint32(u4[:], tx.LockTime)
	b.Write(u4[:])
	binary.LittleEndian.PutUint32(u4[:], sigHashAllForkID)
	b.Write(u4[:])
	return dsha(b.Bytes())
}

// signFork signs Bitcoin Cash P2PKH inputs with ECDSA over the FORKID digest
// (ECDSA stays valid on BCH alongside Schnorr) and checks each signature.
func (s *Signer) signFork(p *parsedTx, plan []spend) ([]byte, error) {
	tx := p.tx
	d := newBCHDigest(tx)
	for i, sp := range plan {
		if sp.kind != p2pkh {
			return nil, fmt.Errorf("input %d: %s cannot be signed on %s", i, sp.kind, s.c.code)
		}
		h := d.sighash(i, p.prev[i].script, p.prev[i].amount)
		sig := ecdsa.Sign(sp.k.priv, h[:]).Serialize()
		script, err := txscript.NewScriptBuilder().AddData(append(sig, sigHashAllForkID)).AddData(sp.pub()).Script()
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		tx.TxIn[i].SignatureScript = script
		tx.TxIn[i].Witness = nil
	}
	for i := range tx.TxIn {
		if err := verifyFork(d, i, p.prev[i]); err != nil {
			return nil, fmt.Errorf("input %d: signature does not verify: %w", i, err)
		}
	}
	var buf bytes.Buffer
	buf.Grow(tx.SerializeSizeStripped())
	if err := tx.SerializeNoWitness(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// verifyFork checks a signed BCH P2PKH input the way a node would: the
// scriptSig is exactly <sig||0x41> <pubkey>, the public key hashes to the
// locking script, and the strict-DER, low-S signature verifies against the
// FORKID digest.
func verifyFork(d *bchDigest, i int, po prevOut) error {
	kind, h := classify(po.script)
	if kind != p2pkh {
		return fmt.Errorf("previous output is not P2PKH")
	}
	pushes, err := txscript.PushedData(d.tx.TxIn[i].SignatureScript)
	if err != nil || len(pushes) != 2 {
		return fmt.Errorf("scriptSig is not <signature> <public key>")
	}
	sigb, pubb := pushes[0], pushes[1]
	if len(sigb) < 9 || sigb[len(sigb)-1] != sigHashAllForkID {
		return fmt.Errorf("signature hash type is not ALL|FORKID")
	}
	if !bytes.Equal(btcutil.Hash160(pubb), h) {
		return fmt.Errorf("public key does not match the locking script")
	}
	pub, err := btcec.ParsePubKey(pubb)
	if err != nil {
		return err
	}
	der := sigb[:len(sigb)-1]
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return err
	}
	// Serialize emits canonical DER with a low S: any difference means the
	// signature is not what BCH's STRICTENC/LOW_S rules accept.
	if !bytes.Equal(sig.Serialize(), der) {
		return fmt.Errorf("signature is not canonical low-S DER")
	}
	digest := d.sighash(i, po.script, po.amount)
	if !sig.Verify(digest[:], pub) {
		return fmt.Errorf("ECDSA verification failed")
	}
	return nil
}
