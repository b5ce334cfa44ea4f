package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gokms/gokms/daemon/policy"
)

var _ policy.SharedCounters = (*Journal)(nil)

// AddWithin implements policy.SharedCounters: one transaction takes an
// advisory lock per counter key (in key order, so two daemons never wait
// on each other crosswise), then, seeing everything committed under those
// locks before, checks every limit and adds every amount. Two daemons
// racing for the last allowance are serialised on the key: the second sees
// the first's add and is refused.
func (j *Journal) AddWithin(ctx context.Context, ref string, at, since time.Time, adds []policy.LimitedAdd) (int, *big.Int, error) {
	if ref == "" {
		return -1, nil, errors.New("journal: counter add needs a ref")
	}
	var keys []string
	for _, a := range adds {
		if a.Key == "" || a.Amount == nil {
			return -1, nil, errors.New("journal: counter add needs a key and an amount")
		}
		keys = append(keys, a.Key)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	refused, sum := -1, (*big.Int)(nil)
	defer j.maybePrune()
	err := j.tx(ctx, "counter add", func(tx pgx.Tx, again bool) error {
		refused, sum = -1, nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k`, keys); err != nil {
			return err
		}
		// A new statement: its snapshot sees every add committed by the
		// holders of these locks before us.
		akeys := make([]string, len(adds))
		for i, a := range adds {
			akeys[i] = a.Key
		}
		rows, err := tx.Query(ctx, `SELECT k,
				EXISTS (SELECT 1 FROM gokms_counters WHERE key = k AND ref = $2),
				(SELECT coalesce(sum(amount), 0) FROM gokms_counters WHERE key = k AND at >= $3)::text
			FROM unnest($1::text[]) AS k`, akeys, ref, since)
		if err != nil {
			return err
		}
		type state struct {
			counted bool
			sum     *big.Int
		}
		st := map[string]state{}
		for rows.Next() {
			var k, s string
			var counted bool
			if err := rows.Scan(&k, &counted, &s); err != nil {
				rows.Close()
				return err
			}
			v, ok := new(big.Int).SetString(s, 10)
			if !ok {
				rows.Close()
				return fmt.Errorf("journal: counter %s sums to %q, not an integer", k, s)
			}
			st[k] = state{counted, v}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for i, a := range adds {
			s := st[a.Key]
			if s.counted {
				continue // this ref counts already (decided again after a restart)
			}
			if a.Limit != nil && new(big.Int).Add(s.sum, a.Amount).Cmp(a.Limit) > 0 {
				refused, sum = i, s.sum
				return nil // nothing added
			}
			b.Queue(`INSERT INTO gokms_counters (key, ref, at, amount) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
				a.Key, ref, at, pgtype.Numeric{Int: new(big.Int).Set(a.Amount), Valid: true})
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return -1, nil, fmt.Errorf("counter add for %s: %w", ref, err)
	}
	return refused, sum, nil
}
