package wallet

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"
)

// Bitcoin Cash addresses (cashaddr, spec: bitcoincash.org spec/cashaddr.md).
// btcd has no cashaddr and the Go module that has (gcash/bchutil) is not
// served here; cashaddr is bech32's character set and 8-to-5 bit regrouping
// (both taken from btcutil/bech32) with a 40-bit BCH-code checksum, which is
// the only part written here. Tested against the spec's vectors and the
// addresses the Tatum SDK (cashaddrjs) produced.

const cashAddrCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// cashAddrP2PKH encodes a 20-byte public key hash with the prefix
// ("bitcoincash:q..."), as the SDK's cashaddr.encode does.
func cashAddrP2PKH(prefix string, hash160 []byte) (string, error) {
	return cashAddrEncode(prefix, 0, hash160)
}

// cashAddrEncode encodes a hash of a given type (0 = P2PKH, 1 = P2SH).
func cashAddrEncode(prefix string, typ byte, hash []byte) (string, error) {
	var size byte
	switch len(hash) {
	case 20:
		size = 0
	case 24:
		size = 1
	case 28:
		size = 2
	case 32:
		size = 3
	case 40:
		size = 4
	case 48:
		size = 5
	case 56:
		size = 6
	case 64:
		size = 7
	default:
		return "", fmt.Errorf("cashaddr: hash of %d bytes", len(hash))
	}
	payload, err := bech32.ConvertBits(append([]byte{typ<<3 | size}, hash...), 8, 5, true)
	if err != nil {
		return "", err
	}
	sum := cashAddrPolymod(cashAddrChecksumInput(prefix, payload, make([]byte, 8)))
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte(':')
	for _, v := range payload {
		b.WriteByte(cashAddrCharset[v])
	}
	for i := 0; i < 8; i++ {
		b.WriteByte(cashAddrCharset[(sum>>(5*(7-i)))&31])
	}
	return b.String(), nil
}

// cashAddrVerify reports whether a "prefix:payload" string has a valid
// checksum (used by the tests with the spec's checksum vectors).
func cashAddrVerify(addr string) bool {
	addr = strings.ToLower(addr)
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 {
		return false
	}
	prefix, data := addr[:i], addr[i+1:]
	vals := make([]byte, len(data))
	for k := range data {
		v := strings.IndexByte(cashAddrCharset, data[k])
		if v < 0 {
			return false
		}
		vals[k] = byte(v)
	}
	return cashAddrPolymod(cashAddrChecksumInput(prefix, vals, nil)) == 0
}

func cashAddrChecksumInput(prefix string, payload, tail []byte) []byte {
	in := make([]byte, 0, len(prefix)+1+len(payload)+len(tail))
	for k := 0; k < len(prefix); k++ {
		in = append(in, prefix[k]&0x1f)
	}
	in = append(in, 0)
	in = append(in, payload...)
	return append(in, tail...)
}

func cashAddrPolymod(v []byte) uint64 {
	c := uint64(1)
	for _, d := range v {
		c0 := byte(c >> 35)
		c = ((c & 0x07ffffffff) << 5) ^ uint64(d)
		if c0&0x01 != 0 {
			c ^= 0x98f2bc8e61
		}
		if c0&0x02 != 0 {
			c ^= 0x79b76d99e2
		}
		if c0&0x04 != 0 {
			c ^= 0xf33e5fb3c4
		}
		if c0&0x08 != 0 {
			c ^= 0xae2eabe2a8
		}
		if c0&0x10 != 0 {
			c ^= 0x1e4f43e470
		}
	}
	return c ^ 1
}

// CashAddrToLegacy turns a Bitcoin Cash cashaddr ("bitcoincash:q…",
// "bchtest:p…", the prefix optional for mainnet) into the legacy base58
// address of the same hash, the form gokms's transaction views use. ok is
// false for a string that is not a valid P2PKH/P2SH cashaddr.
func CashAddrToLegacy(addr string) (legacy string, ok bool) {
	addr = strings.TrimSpace(addr)
	if addr != strings.ToLower(addr) && addr != strings.ToUpper(addr) {
		return "", false // mixed case is invalid (spec)
	}
	a := strings.ToLower(addr)
	if !strings.Contains(a, ":") {
		a = "bitcoincash:" + a
	}
	if !cashAddrVerify(a) {
		return "", false
	}
	i := strings.LastIndexByte(a, ':')
	prefix, data := a[:i], a[i+1:]
	if len(data) < 8 {
		return "", false
	}
	vals := make([]byte, len(data)-8)
	for k := range vals {
		vals[k] = byte(strings.IndexByte(cashAddrCharset, data[k]))
	}
	raw, err := bech32.ConvertBits(vals, 5, 8, false)
	if err != nil || len(raw) != 21 || raw[0]&7 != 0 {
		return "", false // only 20-byte hashes: P2PKH and P2SH
	}
	var version byte
	switch {
	case prefix == "bitcoincash" && raw[0]>>3 == 0:
		version = 0x00
	case prefix == "bitcoincash" && raw[0]>>3 == 1:
		version = 0x05
	case prefix == "bchtest" && raw[0]>>3 == 0:
		version = 0x6f
	case prefix == "bchtest" && raw[0]>>3 == 1:
		version = 0xc4
	default:
		return "", false
	}
	return base58.CheckEncode(raw[1:], version), true
}
