package evm

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/gokms/gokms/signing"
)

// FindTx implements signing.TxFinder through the chain's node.
func (s *Signer) FindTx(ctx context.Context, chain string, testnet bool, txID string) (signing.TxState, error) {
	c, ok := Lookup(chain)
	if !ok {
		return signing.TxUnknown, fmt.Errorf("chain %q: %w", chain, signing.ErrUnsupportedChain)
	}
	s.mu.RLock()
	timeout := s.cfg.CallTimeout
	s.mu.RUnlock()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	n, err := s.node(ctx, c, testnet)
	if err != nil {
		return signing.TxUnknown, err
	}
	_, pending, err := n.client.TransactionByHash(ctx, common.HexToHash(txID))
	switch {
	case errors.Is(err, ethereum.NotFound):
		return signing.TxNotFound, nil
	case err != nil:
		return signing.TxUnknown, n.wrap("eth_getTransactionByHash", err)
	case pending:
		return signing.TxPending, nil
	}
	return signing.TxMined, nil
}
