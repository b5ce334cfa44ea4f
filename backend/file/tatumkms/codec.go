// Package tatumkms reads and writes the wallet store of the Node.js
// tatum-kms 8.0.1 (~/.tatumrc/wallet.dat), so that operators can move their
// keys into gokms and, for a rollback, back out again.
//
// The file is what crypto-js's AES.encrypt(JSON.stringify(wallets), password).toString()
// returns: the base64 text of "Salted__" + an 8-byte salt + the ciphertext,
// where key and IV come from OpenSSL's EVP_BytesToKey (MD5, one iteration;
// 32-byte key, 16-byte IV) and the cipher is AES-256-CBC with PKCS#7 padding.
// The plaintext is a JSON object mapping each signatureId to
// {mnemonic?, xpub?, privateKey?, secret?, address?, chain, testnet}.
//
// This format is weak (one MD5 round of key stretching); gokms reads it to
// move in and writes it only when asked to, for a rollback.
package tatumkms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5" //nolint:gosec // EVP_BytesToKey with MD5 is the format being read, not a choice.
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/gokms/gokms/backend"
)

const (
	magic   = "Salted__"
	saltLen = 8
	keyLen  = 32
	ivLen   = aes.BlockSize
)

// Errors for files that are not (whole) tatum-kms stores. A wrong password
// is reported with an error wrapping backend.ErrBadPassword.
var (
	ErrNotBase64    = errors.New("not a tatum-kms wallet file: the content is not base64 text")
	ErrNotSalted    = errors.New(`not a tatum-kms wallet file: it does not start with the "Salted__" header crypto-js writes`)
	ErrTruncated    = errors.New("tatum-kms wallet file is truncated: the ciphertext is not a whole number of AES blocks")
	ErrNotAnObject  = errors.New("tatum-kms wallet decrypted, but its content is not a JSON object of wallets")
	errWrongPassErr = fmt.Errorf("decrypt tatum-kms wallet: %w", backend.ErrBadPassword)
)

// decrypt returns the plaintext of a wallet.dat's text. data may carry
// whitespace (a trailing newline added by an editor, or OpenSSL's 64-column
// lines), which is ignored as crypto-js's parser does. The caller must zero
// the returned slice.
func decrypt(data, password []byte) ([]byte, error) {
	compact := make([]byte, 0, len(data))
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			compact = append(compact, c)
		}
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(compact)))
	n, err := base64.StdEncoding.Decode(raw, compact)
	if err != nil {
		// crypto-js writes padded standard base64; a file that is not that
		// is either cut off mid-character or not a wallet.dat at all.
		var ce base64.CorruptInputError
		if errors.As(err, &ce) && int(ce) >= len(compact)-3 && isBase64Text(compact) {
			return nil, ErrTruncated
		}
		return nil, ErrNotBase64
	}
	raw = raw[:n]
	if len(raw) < len(magic) || string(raw[:len(magic)]) != magic {
		return nil, ErrNotSalted
	}
	if len(raw) < len(magic)+saltLen {
		return nil, ErrTruncated
	}
	salt := raw[len(magic) : len(magic)+saltLen]
	ct := raw[len(magic)+saltLen:]
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, ErrTruncated
	}
	key, iv := evpBytesToKey(password, salt)
	defer zero(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("decrypt tatum-kms wallet: %w", err)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	// A wrong password gives random bytes: the padding check rejects ~255 in
	// 256 of them; UTF-8 and JSON validity (checked by the caller) the rest.
	p := int(plain[len(plain)-1])
	if p == 0 || p > aes.BlockSize {
		zero(plain)
		return nil, errWrongPassErr
	}
	for _, c := range plain[len(plain)-p:] {
		if int(c) != p {
			zero(plain)
			return nil, errWrongPassErr
		}
	}
	out := plain[:len(plain)-p]
	if !utf8.Valid(out) {
		// What tatum-kms shows as "Malformed UTF-8 data" (its issue #48).
		zero(plain)
		return nil, errWrongPassErr
	}
	return out, nil
}

func isBase64Text(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// encrypt returns crypto-js's AES.encrypt(plain, password).toString() for
// the given salt.
func encrypt(plain, password, salt []byte) []byte {
	key, iv := evpBytesToKey(password, salt)
	defer zero(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // unreachable: the key is always 32 bytes
	}
	p := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+p)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(p)
	}
	raw := make([]byte, 0, len(magic)+saltLen+len(buf))
	raw = append(raw, magic...)
	raw = append(raw, salt...)
	ct := raw[len(raw) : len(raw)+len(buf)]
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, buf)
	zero(buf)
	raw = raw[:len(raw)+len(buf)]
	out := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(out, raw)
	return out
}

// evpBytesToKey is OpenSSL's EVP_BytesToKey with MD5 and one iteration, as
// crypto-js's OpenSSLKdf.execute uses it: D_i = MD5(D_{i-1} || password || salt)
// until 48 bytes (key || IV) are produced. No maintained Go library offers
// this legacy KDF; it is a few lines.
func evpBytesToKey(password, salt []byte) (key, iv []byte) {
	var out []byte
	var prev []byte
	h := md5.New() //nolint:gosec // see import
	for len(out) < keyLen+ivLen {
		h.Reset()
		h.Write(prev)
		h.Write(password)
		h.Write(salt)
		prev = h.Sum(nil)
		out = append(out, prev...)
	}
	return out[:keyLen], out[keyLen : keyLen+ivLen]
}

// newSalt returns 8 random bytes, as crypto-js's WordArray.random(8).
func newSalt(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	s := make([]byte, saltLen)
	if _, err := io.ReadFull(r, s); err != nil {
		return nil, fmt.Errorf("tatum-kms wallet: random salt: %w", err)
	}
	return s, nil
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// isEmptyFile reports whether data is blank: tatum-kms treats a zero-length
// store as one without wallets.
func isEmptyFile(data []byte) bool {
	return len(bytes.TrimSpace(data)) == 0
}
