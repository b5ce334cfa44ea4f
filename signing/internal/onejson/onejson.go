// Package onejson reads a pending transaction's serializedTransaction the
// way every signer must: exactly one JSON object, numbers kept as written
// (json.Number), and nothing after it, as JSON.parse (tatum-kms) demands.
// encoding/json's Decoder.More, which the signers checked before, answers
// false for a trailing "}" or "]", so `{...}}` passed.
package onejson

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

var (
	// ErrNotObject: s is not a JSON object (or not JSON, or null).
	ErrNotObject = errors.New("not a JSON object")
	// ErrTrailing: something follows the object.
	ErrTrailing = errors.New("data after the JSON object")
)

// Object decodes s into its members.
func Object(s string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := Into(s, &m, false); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, ErrNotObject
	}
	return m, nil
}

// Into decodes s, one JSON object, into v (a pointer to a struct or map);
// strict refuses a member v has no field for.
func Into(s string, v any, strict bool) error {
	if t := strings.TrimLeft(s, " \t\r\n"); t == "" || t[0] != '{' {
		return ErrNotObject
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return errors.Join(ErrNotObject, err)
	}
	// Token, unlike More, sees a stray "}" or "]": it is a syntax error
	// there, as anything but the end of input is.
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailing
	}
	return nil
}
