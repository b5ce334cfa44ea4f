package daemon

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/signing"
	"github.com/gokms/gokms/tatum"
)

// Wallets of chains gokms cannot sign are never skipped silently: every
// cycle the daemon counts them (log warning, metric unsigned_wallets), polls
// Tatum for their pending transactions (chains Tatum has a KMS broadcast
// endpoint for) and reports each pending id once to /v3/tatum/kms/batch as
// "gokms cannot sign CHAIN: ...", so the operator sees it in Tatum. They are
// never signed.

// EventUnsignable: a pending transaction of a chain gokms cannot sign was
// reported to Tatum (not signed).
const EventUnsignable = "unsignable"

// maxReportedUnsigned bounds the ids remembered as already reported (oldest
// forgotten first): after that many, or after a restart, an id still pending
// is reported once more.
const maxReportedUnsigned = 10000

// unsignedRemind is how often an unchanged warning is repeated.
const unsignedRemind = time.Hour

// ChainCount is how many stored wallets a chain and network has.
type ChainCount struct {
	Chain   string
	Testnet bool
	Wallets int
}

func (c ChainCount) String() string {
	n := c.Chain
	if c.Testnet {
		n += " (testnet)"
	}
	return fmt.Sprintf("%s: %d", n, c.Wallets)
}

// CanSign reports whether set has a signer for chain.
func CanSign(set *signing.Set, chain string) bool {
	_, err := set.For(chain)
	return err == nil
}

// UnsignableWallets counts the records of metas whose chain gokms cannot
// sign, per chain and network, sorted by chain then mainnet first. Only
// metadata is read: no secret.
func UnsignableWallets(set *signing.Set, metas []backend.Meta) []ChainCount {
	idx := map[ChainCount]int{}
	for _, m := range metas {
		c := strings.ToUpper(strings.TrimSpace(m.Chain))
		if CanSign(set, c) {
			continue
		}
		idx[ChainCount{Chain: c, Testnet: m.Testnet}]++
	}
	out := make([]ChainCount, 0, len(idx))
	for k, n := range idx {
		k.Wallets = n
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Chain != out[j].Chain {
			return out[i].Chain < out[j].Chain
		}
		return !out[i].Testnet && out[j].Testnet
	})
	return out
}

// FormatChainCounts is "TRON: 1, XRP (testnet): 2", or "none".
func FormatChainCounts(cs []ChainCount) string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// unsignedReason is what Tatum is told about a pending transaction of chain.
func unsignedReason(chain string) string {
	if err := signing.ShutDown(chain); err != nil {
		return "gokms cannot sign " + chain + ": " + err.Error()
	}
	return "gokms cannot sign " + chain + ": this gokms version has no signer for it; " +
		"sign it with a tool that can (tatum-kms) or cancel it in Tatum (DELETE /v3/kms/{id})"
}

// unsignedLabel bounds metric labels to chain codes Tatum knows.
func unsignedLabel(c string) string {
	if _, err := tatum.BroadcastPath(c); err != nil {
		return "other"
	}
	return c
}

// unsignedState is what the daemon remembers across cycles.
type unsignedState struct {
	summary  string // last warning logged
	loggedAt time.Time
	reported map[string]bool // pending ids already reported
	order    []string        // reported ids, oldest first
}

// unsignedIDs returns the stored wallet ids per chain of the daemon's
// network that gokms cannot sign. ids are the cycle's wallet ids per chain
// (the backend's, unless --wallets is set: then the backend is listed and
// only the listed wallets count).
func (d *Daemon) unsignedIDs(ctx context.Context, ids map[string][]string) map[string][]string {
	out := map[string][]string{}
	if len(d.cfg.Wallets) > 0 {
		if d.cfg.Backend == nil {
			return out
		}
		metas, err := d.cfg.Backend.List(ctx)
		if err != nil {
			d.log.Error("list wallets", "error", err.Error())
			return out
		}
		for _, m := range metas {
			c := strings.ToUpper(m.Chain)
			if m.Testnet == d.cfg.Testnet && slices.Contains(d.cfg.Wallets, m.ID) && !CanSign(d.cfg.Signers, c) {
				out[c] = append(out[c], m.ID)
			}
		}
		return out
	}
	for c, l := range ids {
		if !CanSign(d.cfg.Signers, c) {
			out[c] = l
		}
	}
	return out
}

// unsignedReport is the report of one pending transaction gokms cannot sign.
type unsignedReport struct {
	tatum.ErrorReport
	chain string
}

// checkUnsigned counts, logs and polls the wallets gokms cannot sign and
// returns the reports for pending ids not reported yet. Call markReported
// with them once Tatum has taken them.
func (d *Daemon) checkUnsigned(ctx context.Context, ids map[string][]string) []unsignedReport {
	un := d.unsignedIDs(ctx, ids)
	chains := make([]string, 0, len(un))
	counts := make([]ChainCount, 0, len(un))
	for c, l := range un {
		chains = append(chains, c)
		counts = append(counts, ChainCount{Chain: c, Testnet: d.cfg.Testnet, Wallets: len(l)})
	}
	sort.Strings(chains)
	slices.SortFunc(counts, func(a, b ChainCount) int { return strings.Compare(a.Chain, b.Chain) })

	d.m.unsignedWallets.Reset()
	for _, c := range counts {
		d.m.unsignedWallets.WithLabelValues(unsignedLabel(c.Chain)).Add(float64(c.Wallets))
	}
	summary := FormatChainCounts(counts)
	d.mu.Lock()
	st := &d.unsigned
	logIt := summary != st.summary || (len(counts) > 0 && time.Since(st.loggedAt) >= unsignedRemind)
	if logIt {
		st.summary, st.loggedAt = summary, time.Now()
	}
	d.mu.Unlock()
	if logIt && len(counts) > 0 {
		d.log.Warn("stored wallets of chains gokms cannot sign: their pending transactions are reported to Tatum once each and never signed",
			"wallets", summary, "network", network(d.cfg.Testnet))
	}

	var reports []unsignedReport
	for _, chain := range chains {
		if ctx.Err() != nil {
			break
		}
		if _, err := tatum.BroadcastPath(chain); err != nil {
			continue // Tatum has no KMS endpoints for it: nothing can be pending
		}
		pctx, cancel := context.WithTimeout(ctx, d.cfg.TxTimeout)
		txs, err := d.cfg.API.Pending(pctx, chain, un[chain])
		cancel()
		if err != nil {
			d.m.failed.WithLabelValues(unsignedLabel(chain), "poll").Inc()
			d.log.Error("get pending transactions of a chain gokms cannot sign", "chain", chain, "wallets", len(un[chain]), "error", err.Error())
			continue
		}
		for _, tx := range txs {
			if tx.Chain != "" && !strings.EqualFold(tx.Chain, chain) {
				continue // another chain's: not this poll's business, and never signed
			}
			if err := ValidatePendingID(tx.ID); err != nil {
				d.log.Warn("pending transaction of a chain gokms cannot sign has a malformed id: not reported", "chain", chain, "error", err.Error())
				continue
			}
			d.mu.Lock()
			done := d.unsigned.reported[tx.ID]
			d.mu.Unlock()
			if done || slices.ContainsFunc(reports, func(r unsignedReport) bool { return r.SignatureID == tx.ID }) {
				continue
			}
			d.log.Warn("pending transaction of a chain gokms cannot sign: reporting it to Tatum, not signing it", "id", tx.ID, "chain", chain)
			d.event(EventUnsignable, tatum.PendingTransaction{ID: tx.ID, Chain: chain}, "", unsignedReason(chain))
			reports = append(reports, unsignedReport{tatum.ErrorReport{SignatureID: tx.ID, Error: unsignedReason(chain)}, chain})
		}
	}
	return reports
}

// markReported remembers that Tatum took reports, so they are not sent
// again every cycle.
func (d *Daemon) markReported(reports []unsignedReport) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &d.unsigned
	if st.reported == nil {
		st.reported = map[string]bool{}
	}
	for _, r := range reports {
		if st.reported[r.SignatureID] {
			continue
		}
		st.reported[r.SignatureID] = true
		st.order = append(st.order, r.SignatureID)
		d.m.unsignedReported.WithLabelValues(unsignedLabel(r.chain)).Inc()
	}
	for len(st.order) > maxReportedUnsigned {
		delete(st.reported, st.order[0])
		st.order = st.order[1:]
	}
}
