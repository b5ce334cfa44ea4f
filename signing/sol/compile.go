package sol

import (
	"fmt"
	"sort"
)

// recompile is what @tatumio/solana's kms.sign does to the message before
// signing, step by step as @solana/web3.js 1.56.2 runs it:
// Transaction.populate(Message.from(txData)) turns the compiled message back
// into instructions with account metas (signer and writable flags from the
// header; the fee payer is account 0), recentBlockhash is replaced by the
// node's, and sign(...signers) calls compileMessage, which collects every
// instruction's accounts and then the program ids, merges duplicates (OR of
// the flags), sorts signers first, then writable, then by
// String.localeCompare of the base58 keys, moves the fee payer to the front
// and counts the header. An account that no instruction uses is dropped.
//
// Where web3.js would quietly turn a non-signer account into a signer because
// a key for it was given, or throw "unknown signer", recompile refuses: gokms
// never adds a signature the transaction did not ask for.
func recompile(m *Message, blockhash [32]byte, signers []PublicKey) (*Message, error) {
	type meta struct {
		key              PublicKey
		signer, writable bool
	}
	feePayer := m.AccountKeys[0]
	var metas []meta
	var programs []PublicKey
	seenProgram := map[PublicKey]bool{}
	for _, ix := range m.Instructions {
		for _, a := range ix.Accounts {
			metas = append(metas, meta{m.AccountKeys[a], m.IsSigner(int(a)), m.IsWritable(int(a))})
		}
		p := m.AccountKeys[ix.ProgramIDIndex]
		if !seenProgram[p] {
			seenProgram[p] = true
			programs = append(programs, p)
		}
	}
	for _, p := range programs {
		metas = append(metas, meta{key: p})
	}
	var unique []meta
	where := map[PublicKey]int{}
	for _, mt := range metas {
		if i, ok := where[mt.key]; ok {
			unique[i].writable = unique[i].writable || mt.writable
			unique[i].signer = unique[i].signer || mt.signer
			continue
		}
		where[mt.key] = len(unique)
		unique = append(unique, mt)
	}
	names := make(map[PublicKey]string, len(unique))
	for _, mt := range unique {
		names[mt.key] = mt.key.String()
	}
	// Array.prototype.sort is stable in V8, as is SliceStable.
	sort.SliceStable(unique, func(i, j int) bool {
		x, y := unique[i], unique[j]
		if x.signer != y.signer {
			return x.signer
		}
		if x.writable != y.writable {
			return x.writable
		}
		return localeCompare(names[x.key], names[y.key]) < 0
	})
	fp := -1
	for i, mt := range unique {
		if mt.key == feePayer {
			fp = i
			break
		}
	}
	payer := meta{key: feePayer}
	if fp >= 0 {
		payer = unique[fp]
		unique = append(unique[:fp:fp], unique[fp+1:]...)
	}
	payer.signer, payer.writable = true, true
	unique = append([]meta{payer}, unique...)

	for _, s := range signers {
		found := false
		for _, mt := range unique {
			if mt.key == s {
				if !mt.signer {
					return nil, fmt.Errorf("the key of %s was given to sign, but the transaction does not ask for its signature (tatum-kms's web3.js would make it a signer and change the transaction)", s)
				}
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("the key of %s was given to sign, but the transaction does not use that account", s)
		}
	}

	var out Message
	out.RecentBlockhash = blockhash
	var signed, unsigned []PublicKey
	for _, mt := range unique {
		if mt.signer {
			signed = append(signed, mt.key)
			out.Header.NumRequiredSignatures++
			if !mt.writable {
				out.Header.NumReadonlySignedAccounts++
			}
		} else {
			unsigned = append(unsigned, mt.key)
			if !mt.writable {
				out.Header.NumReadonlyUnsignedAccounts++
			}
		}
	}
	out.AccountKeys = append(signed, unsigned...)
	if len(out.AccountKeys) > 256 {
		return nil, fmt.Errorf("%d accounts; a message can index 256", len(out.AccountKeys))
	}
	index := make(map[PublicKey]uint8, len(out.AccountKeys))
	for i, k := range out.AccountKeys {
		index[k] = uint8(i)
	}
	for _, ix := range m.Instructions {
		c := CompiledInstruction{ProgramIDIndex: index[m.AccountKeys[ix.ProgramIDIndex]], Data: ix.Data}
		for _, a := range ix.Accounts {
			c.Accounts = append(c.Accounts, index[m.AccountKeys[a]])
		}
		out.Instructions = append(out.Instructions, c)
	}
	return &out, nil
}

// localeCompare is V8's String.prototype.localeCompare (ICU root collation,
// the default for "en") restricted to base58's alphabet, digits and ASCII
// letters: first the strings compare ignoring case, with digits before
// letters and a shorter prefix first; only if they are equal that way does
// case decide, lower case first, at the first position where it differs.
// The vectors check it against Node's own sort.
func localeCompare(x, y string) int {
	primary := func(c byte) int {
		switch {
		case c >= '0' && c <= '9':
			return int(c - '0')
		case c >= 'a' && c <= 'z':
			return 10 + int(c-'a')
		case c >= 'A' && c <= 'Z':
			return 10 + int(c-'A')
		}
		return 100 + int(c) // not base58; never reached for keys
	}
	for i := 0; i < len(x) && i < len(y); i++ {
		if a, b := primary(x[i]), primary(y[i]); a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	upper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	for i := 0; i < len(x); i++ {
		if a, b := upper(x[i]), upper(y[i]); a != b {
			if b {
				return -1
			}
			return 1
		}
	}
	return 0
}
