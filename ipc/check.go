package ipc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// CheckUser is the one verdict on a message a user wants to send: the
// engine's Send, the UI's composer and `kelpie send` all ask it, so they
// never disagree. msg must be exactly one JSON value (surrounding whitespace
// allowed); an object whose top-level "cmd" is a string starting with
// "NODE_" and longer than it is Node's own (Node's isInternal, with
// JavaScript's JSON.parse deciding what "cmd" is: escapes decoded, the last
// duplicate wins, the name case-sensitive).
//
// It returns nil, ErrReserved itself (its text is one plain sentence, fit to
// show as it is), or an error wrapping ErrInvalidJSON and, when
// encoding/json can say where, the *json.SyntaxError with the offset.
func CheckUser(msg []byte) error {
	info, ok := scanJSON(msg)
	if !ok {
		return invalidJSON(msg)
	}
	if cmdIsInternal(info.cmd) {
		return ErrReserved
	}
	return nil
}

// invalidJSON explains why msg is not one JSON value. It runs only on the
// refusal path, so the second parse costs nothing in the common case.
func invalidJSON(msg []byte) error {
	var se *json.SyntaxError
	var v json.RawMessage
	if err := json.Unmarshal(msg, &v); errors.As(err, &se) {
		return fmt.Errorf("%w: %w", ErrInvalidJSON, se)
	}
	if len(bytes.TrimSpace(msg)) == 0 {
		return fmt.Errorf("%w: the message is empty", ErrInvalidJSON)
	}
	return ErrInvalidJSON
}
