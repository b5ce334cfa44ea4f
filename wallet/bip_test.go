package wallet

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/tyler-smith/go-bip39"
)

// BIP39: Trezor's published English vectors (testdata/wallet/bip39-vectors.json,
// a verbatim copy): entropy -> mnemonic, mnemonic + "TREZOR" -> seed, seed ->
// BIP32 master xprv.
func TestBIP39TrezorVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "wallet", "bip39-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Passphrase string      `json:"passphrase"`
		English    [][4]string `json:"english"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.English) != 24 || f.Passphrase != "TREZOR" {
		t.Fatalf("unexpected vector file: %d vectors, passphrase %q", len(f.English), f.Passphrase)
	}
	for _, v := range f.English {
		entropy, _ := hex.DecodeString(v[0])
		m, err := bip39.NewMnemonic(entropy)
		if err != nil || m != v[1] {
			t.Errorf("mnemonic of %s = %q, %v; want %q", v[0], m, err, v[1])
		}
		if err := ValidateMnemonic(v[1]); err != nil {
			t.Errorf("ValidateMnemonic(vector %s): %v", v[0], err)
		}
		seed, err := mnemonicSeed(v[1], f.Passphrase)
		if err != nil || hex.EncodeToString(seed) != v[2] {
			t.Errorf("seed of %s = %x, %v; want %s", v[0], seed, err, v[2])
		}
		mk, err := masterKey(seed)
		if err != nil || mk.String() != v[3] {
			t.Errorf("master key of %s = %v, %v; want %s", v[0], mk, err, v[3])
		}
	}
}

// BIP32 test vectors 1-4 (bitcoin/bips bip-0032.mediawiki): every chain's
// xprv and xpub.
func TestBIP32Vectors(t *testing.T) {
	type step struct{ path, xpub, xprv string }
	vectors := []struct {
		seed  string
		steps []step
	}{
		{"000102030405060708090a0b0c0d0e0f", []step{
			{"m", "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8", "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"},
			{"m/0H", "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw", "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHrnYeSvkzY7d2bhkJ7"},
			{"m/0H/1", "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ", "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU4pWcQDnRnrVA1xe8fs"},
			{"m/0H/1/2H", "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5", "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjANTtpgP4mLTj34bhnZX7UiM"},
			{"m/0H/1/2H/2", "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV", "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5Mm3wDvUAKRHSC34sJ7in334"},
			{"m/0H/1/2H/2/1000000000", "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy", "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQjgPie1rFSruoUihUZREPSL39UNdE3BBDu76"},
		}},
		{"fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542", []step{
			{"m", "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB", "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2emdEXVYsCzC2U"},
			{"m/0", "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH", "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fwqWpWkeS3v86pgKt"},
			{"m/0/2147483647H", "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a", "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kRgVsFawNzmjuHc2YmYRmagcEPdU9"},
			{"m/0/2147483647H/1", "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon", "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHjXajPPdbRCHuWS6T8XA2ECKADdw4Ef"},
			{"m/0/2147483647H/1/2147483646H", "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL", "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39njGVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc"},
			{"m/0/2147483647H/1/2147483646H/2", "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt", "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8Dq38EGfSh6dqA9QWTyefMLEcBYJUuekgW4BYPJcr9E7j"},
		}},
		// Retention of leading zeros (bitcore-lib#47, iancoleman/bip39#58).
		{"4b381541583be4423346c643850da4b320e46a87ae3d2a4e6da11eba819cd4acba45d239319ac14f863b8d5ab5a0d0c64d2e8a1e7d1457df2e5a3c51c73235be", []step{
			{"m", "xpub661MyMwAqRbcEZVB4dScxMAdx6d4nFc9nvyvH3v4gJL378CSRZiYmhRoP7mBy6gSPSCYk6SzXPTf3ND1cZAceL7SfJ1Z3GC8vBgp2epUt13", "xprv9s21ZrQH143K25QhxbucbDDuQ4naNntJRi4KUfWT7xo4EKsHt2QJDu7KXp1A3u7Bi1j8ph3EGsZ9Xvz9dGuVrtHHs7pXeTzjuxBrCmmhgC6"},
			{"m/0H", "xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y", "xprv9uPDJpEQgRQfDcW7BkF7eTya6RPxXeJCqCJGHuCJ4GiRVLzkTXBAJMu2qaMWPrS7AANYqdq6vcBcBUdJCVVFceUvJFjaPdGZ2y9WACViL4L"},
		}},
		// Retention of leading zeros (btcsuite/btcutil#172): the case
		// hdkeychain's old Derive (now DeriveNonStandard) got wrong.
		{"3ddd5602285899a946114506157c7997e5444528f3003f6134712147db19b678", []step{
			{"m", "xpub661MyMwAqRbcGczjuMoRm6dXaLDEhW1u34gKenbeYqAix21mdUKJyuyu5F1rzYGVxyL6tmgBUAEPrEz92mBXjByMRiJdba9wpnN37RLLAXa", "xprv9s21ZrQH143K48vGoLGRPxgo2JNkJ3J3fqkirQC2zVdk5Dgd5w14S7fRDyHH4dWNHUgkvsvNDCkvAwcSHNAQwhwgNMgZhLtQC63zxwhQmRv"},
			{"m/0H", "xpub69AUMk3qDBi3uW1sXgjCmVjJ2G6WQoYSnNHyzkmdCHEhSZ4tBok37xfFEqHd2AddP56Tqp4o56AePAgCjYdvpW2PU2jbUPFKsav5ut6Ch1m", "xprv9vB7xEWwNp9kh1wQRfCCQMnZUEG21LpbR9NPCNN1dwhiZkjjeGRnaALmPXCX7SgjFTiCTT6bXes17boXtjq3xLpcDjzEuGLQBM5ohqkao9G"},
			{"m/0H/1H", "xpub6BJA1jSqiukeaesWfxe6sNK9CCGaujFFSJLomWHprUL9DePQ4JDkM5d88n49sMGJxrhpjazuXYWdMf17C9T5XnxkopaeS7jGk1GyyVziaMt", "xprv9xJocDuwtYCMNAo3Zw76WENQeAS6WGXQ55RCy7tDJ8oALr4FWkuVoHJeHVAcAqiZLE7Je3vZJHxspZdFHfnBEjHqU5hG1Jaj32dVoS6XLT1"},
		}},
	}
	for _, v := range vectors {
		seed, _ := hex.DecodeString(v.seed)
		m, err := masterKey(seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range v.steps {
			k, err := derivePath(m, s.path)
			if err != nil {
				t.Fatalf("seed %s.. %s: %v", v.seed[:8], s.path, err)
			}
			if k.String() != s.xprv {
				t.Errorf("seed %s.. %s: xprv %s, want %s", v.seed[:8], s.path, k, s.xprv)
			}
			pub, err := neuter(k, versionXpub)
			if err != nil || pub.String() != s.xpub {
				t.Errorf("seed %s.. %s: xpub %v (%v), want %s", v.seed[:8], s.path, pub, err, s.xpub)
			}
			// Public derivation agrees with private derivation for the
			// non-hardened steps: parse the parent xpub, derive the child.
			if i := strings.LastIndexByte(s.path, '/'); i > 0 && !strings.HasSuffix(s.path, "H") {
				parent, _ := derivePath(m, s.path[:i])
				pp, _ := neuter(parent, versionXpub)
				pk, err := parseExtendedKey(pp.String())
				if err != nil {
					t.Fatal(err)
				}
				idx, _ := ParseIndex(s.path[i+1:])
				child, err := pk.Derive(idx)
				if err != nil || child.String() != s.xpub {
					t.Errorf("public derivation of %s = %v, %v; want %s", s.path, child, err, s.xpub)
				}
			}
		}
	}
}

// BIP32 test vector 5: invalid extended keys are refused.
func TestBIP32InvalidKeys(t *testing.T) {
	for _, k := range []string{
		"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6LBpB85b3D2yc8sfvZU521AAwdZafEz7mnzBBsz4wKY5fTtTQBm", // pubkey version / prvkey mismatch
		"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGTQQD3dC4H2D5GBj7vWvSQaaBv5cxi9gafk7NF3pnBju6dwKvH", // prvkey version / pubkey mismatch
		"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Txnt3siSujt9RCVYsx4qHZGc62TG4McvMGcAUjeuwZdduYEvFn", // invalid pubkey prefix 04
		"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFGpWnsj83BHtEy5Zt8CcDr1UiRXuWCmTQLxEK9vbz5gPstX92JQ", // invalid prvkey prefix 04
		"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6N8ZMMXctdiCjxTNq964yKkwrkBJJwpzZS4HS2fxvyYUA4q2Xe4", // invalid pubkey prefix 01
		"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD9y5gkZ6Eq3Rjuahrv17fEQ3Qen6J", // invalid prvkey prefix 01
		"xprv9s2SPatNQ9Vc6GTbVMFPFo7jsaZySyzk7L8n2uqKXJen3KUmvQNTuLh3fhZMBoG3G4ZW1N2kZuHEPY53qmbZzCHshoQnNf4GvELZfqTUrcv", // zero depth with non-zero parent fingerprint
		"xpub661no6RGEX3uJkY4bNnPcw4URcQTrSibUZ4NqJEw5eBkv7ovTwgiT91XX27VbEXGENhYRCf7hyEbWrR3FewATdCEebj6znwMfQkhRYHRLpJ", // zero depth with non-zero parent fingerprint
		"xprv9s21ZrQH4r4TsiLvyLXqM9P7k1K3EYhA1kkD6xuquB5i39AU8KF42acDyL3qsDbU9NmZn6MsGSUYZEsuoePmjzsB3eFKSUEh3Gu1N3cqVUN", // zero depth with non-zero index
		"xpub661MyMwAuDcm6CRQ5N4qiHKrJ39Xe1R1NyfouMKTTWcguwVcfrZJaNvhpebzGerh7gucBvzEQWRugZDuDXjNDRmXzSZe4c7mnTK97pTvGS8", // zero depth with non-zero index
		"DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHGMQzT7ayAmfo4z3gY5KfbrZWZ6St24UVf2Qgo6oujFktLHdHY4", // unknown extended key version
		"DMwo58pR1QLEFihHiXPVykYB6fJmsTeHvyTp7hRThAtCX8CvYzgPcn8XnmdfHPmHJiEDXkTiJTVV9rHEBUem2mwVbbNfvT2MTcAqj3nesx8uBf9", // unknown extended key version
		"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzF93Y5wvzdUayhgkkFoicQZcP3y52uPPxFnfoLZB21Teqt1VvEHx", // private key 0 not in 1..n-1
		"xprv9s21ZrQH143K24Mfq5zL5MhWK9hUhhGbd45hLXo2Pq2oqzMMo63oStZzFAzHGBP2UuGCqWLTAPLcMtD5SDKr24z3aiUvKr9bJpdrcLg1y3G", // private key n not in 1..n-1
		"xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Q5JXayek4PRsn35jii4veMimro1xefsM58PgBMrvdYre8QyULY", // invalid pubkey 020000..07
		"xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHL", // invalid checksum
	} {
		if _, err := parseExtendedKey(k); err == nil {
			t.Errorf("accepted invalid key %s", k)
		} else if strings.Contains(err.Error(), k[4:20]) {
			t.Errorf("error repeats the key: %v", err)
		}
		// And as an xpub of every chain.
		for _, c := range Chains() {
			if _, err := AddressFromXpub(c, k, 0, false); err == nil {
				t.Errorf("%s accepted invalid key %s", c, k)
			}
		}
	}
}

// Cashaddr: the spec's checksum vectors and its legacy-to-cashaddr examples.
func TestCashAddr(t *testing.T) {
	for _, a := range []string{
		"prefix:x64nx6hz",
		"p:gpf8m4h7",
		"bitcoincash:qpzry9x8gf2tvdw0s3jn54khce6mua7lcw20ayyn",
		"bchtest:testnetaddress4d6njnut",
		"bchreg:555555555555555555555555555555555555555555555udxmlmrz",
	} {
		if !cashAddrVerify(a) {
			t.Errorf("checksum of %s not accepted", a)
		}
		if cashAddrVerify(a[:len(a)-1] + "q") {
			t.Errorf("corrupted %s accepted", a)
		}
	}
	for _, v := range []struct{ legacy, cash string }{
		{"1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"},
		{"1KXrWXciRDZUpQwQmuM1DbwsKDLYAYsVLR", "bitcoincash:qr95sy3j9xwd2ap32xkykttr4cvcu7as4y0qverfuy"},
		{"16w1D5WRVKJuZUsSRzdLp9w3YGcgoxDXb", "bitcoincash:qqq3728yw0y47sqn6l2na30mcw6zm78dzqre909m2r"},
		{"3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC", "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq"},
		{"3LDsS579y7sruadqu11beEJoTjdFiFCdX4", "bitcoincash:pr95sy3j9xwd2ap32xkykttr4cvcu7as4yc93ky28e"},
		{"31nwvkZwyPdgzjBJZXfDmSWsC4ZLKpYyUw", "bitcoincash:pqq3728yw0y47sqn6l2na30mcw6zm78dzq5ucqzc37"},
	} {
		hash, ver, err := base58.CheckDecode(v.legacy)
		if err != nil {
			t.Fatal(err)
		}
		typ := byte(0)
		if ver == 0x05 {
			typ = 1
		}
		got, err := cashAddrEncode("bitcoincash", typ, hash)
		if err != nil || got != v.cash {
			t.Errorf("cashaddr of %s = %q, %v; want %s", v.legacy, got, err, v.cash)
		}
		for _, in := range []string{v.cash, strings.TrimPrefix(v.cash, "bitcoincash:"), strings.ToUpper(v.cash)} {
			if back, ok := CashAddrToLegacy(in); !ok || back != v.legacy {
				t.Errorf("CashAddrToLegacy(%s) = %q %v, want %s", in, back, ok, v.legacy)
			}
		}
		last := "q"
		if strings.HasSuffix(v.cash, "q") {
			last = "p"
		}
		if _, ok := CashAddrToLegacy(v.cash[:len(v.cash)-1] + last); ok {
			t.Errorf("corrupted %s accepted", v.cash)
		}
		if _, ok := CashAddrToLegacy("bitcoincash:" + strings.ToUpper(v.cash[12:14]) + v.cash[14:]); ok {
			t.Errorf("mixed-case %s accepted", v.cash)
		}
	}
	// Testnet: the same hash under bchtest is an m/n (P2PKH) or 2 (P2SH) address.
	h := make([]byte, 20)
	for i, c := range []byte{0, 1} {
		ca, _ := cashAddrEncode("bchtest", c, h)
		want := base58.CheckEncode(h, []byte{0x6f, 0xc4}[i])
		if got, ok := CashAddrToLegacy(ca); !ok || got != want {
			t.Errorf("%s -> %q %v, want %s", ca, got, ok, want)
		}
	}
	for _, bad := range []string{"", "bitcoincash:", "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "bchreg:555555555555555555555555555555555555555555555udxmlmrz"} {
		if got, ok := CashAddrToLegacy(bad); ok {
			t.Errorf("%q accepted as %s", bad, got)
		}
	}
	if _, err := cashAddrEncode("bitcoincash", 0, make([]byte, 21)); err == nil {
		t.Error("21-byte hash accepted")
	}
}
