package core

import "encoding/base64"

func decodeToken(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
func encodeToken(b []byte) string          { return base64.RawURLEncoding.EncodeToString(b) }
