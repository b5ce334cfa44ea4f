package tatum

import (
	"bytes"
	"encoding/json"
)

// Signature names a mnemonic wallet and the derivation index of the key that
// must sign (Tatum's `signatures[]` entries).
type Signature struct {
	ID    string  `json:"id"`
	Index *uint32 `json:"index,omitempty"`
}

// PendingTransaction is one transaction waiting in Tatum for a KMS to sign it,
// as returned by POST /v3/kms/pending/{chain} and GET /v3/kms/{id}.
//
// Tatum sends absent optional fields as JSON null ("withdrawalId": null,
// "index": null, "withdrawalResponses": null); they decode to the zero value
// (nil, "" or nil RawMessage), never to the bytes "null".
type PendingTransaction struct {
	ID                    string          `json:"id"`
	Chain                 string          `json:"chain"`
	SerializedTransaction string          `json:"serializedTransaction"`
	Hashes                []string        `json:"hashes"`
	Index                 *uint32         `json:"index,omitempty"`
	Signatures            []Signature     `json:"signatures,omitempty"`
	WithdrawalID          string          `json:"withdrawalId,omitempty"`
	WithdrawalResponses   json.RawMessage `json:"withdrawalResponses,omitempty"`
	TxID                  string          `json:"txId,omitempty"`
}

// plainPending has PendingTransaction's fields without its methods: the
// client decodes lists through it, in one pass instead of two.
type plainPending PendingTransaction

// UnmarshalJSON decodes Tatum's representation, turning an explicit null for
// withdrawalResponses into nil so callers can test len(...) == 0.
func (p *PendingTransaction) UnmarshalJSON(b []byte) error {
	var v plainPending
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = v.normalized()
	return nil
}

func (v plainPending) normalized() PendingTransaction {
	if bytes.Equal(bytes.TrimSpace(v.WithdrawalResponses), []byte("null")) {
		v.WithdrawalResponses = nil
	}
	return PendingTransaction(v)
}

// BroadcastResult is Tatum's answer to a broadcast: the blockchain
// transaction id and whether Tatum marked the pending transaction (or the
// off-chain withdrawal) complete. When Completed is false the caller should
// mark it complete itself with Client.Complete.
type BroadcastResult struct {
	TxID      string `json:"txId"`
	Completed bool   `json:"completed"`
}

// ErrorReport is one entry of the batch failure report
// (POST /v3/tatum/kms/batch): the pending transaction id and why it failed.
type ErrorReport struct {
	SignatureID string `json:"signatureId"`
	Error       string `json:"error"`
}

// wire bodies, exactly as tatum-kms 8.0.1 and @tatumio/tatum send them.
type pendingRequest struct {
	SignatureIDs []string `json:"signatureIds"`
}

type broadcastRequest struct {
	TxData      string `json:"txData"`
	SignatureID string `json:"signatureId,omitempty"`
}

type withdrawalBroadcastRequest struct {
	Currency     string `json:"currency"`
	WithdrawalID string `json:"withdrawalId,omitempty"`
	SignatureID  string `json:"signatureId,omitempty"`
	TxData       string `json:"txData"`
}

type batchRequest struct {
	Errors []ErrorReport `json:"errors"`
}
