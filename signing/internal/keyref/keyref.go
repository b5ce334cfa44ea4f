// Package keyref picks the one wallet a single-key pending transaction
// names, as tatum-kms does (wallets[0]: the first of hashes, then of
// signatures), refusing a transaction that names several.
package keyref

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gokms/gokms/signing"
)

// One returns the signatureId and index that sign req.
func One(chain string, req signing.Request) (string, *uint32, error) {
	ids := map[string]bool{}
	for _, h := range req.Hashes {
		ids[h] = true
	}
	for _, s := range req.Signatures {
		ids[s.ID] = true
	}
	if len(ids) > 1 {
		l := make([]string, 0, len(ids))
		for h := range ids {
			l = append(l, h)
		}
		sort.Strings(l)
		return "", nil, fmt.Errorf("a %s transaction is signed by one key, but it names %d signatureIds (%s)", chain, len(l), strings.Join(l, ", "))
	}
	if len(req.Hashes) > 0 {
		return req.Hashes[0], req.Index, nil
	}
	if len(req.Signatures) > 0 {
		idx := req.Index
		if idx == nil {
			idx = req.Signatures[0].Index
		}
		return req.Signatures[0].ID, idx, nil
	}
	return "", nil, errors.New("the pending transaction names no signatureId (hashes and signatures are empty)")
}
