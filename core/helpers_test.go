package core

import "encoding/base64"

func decodeToken(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
func encodeToken(b []byte) string          { return base64.RawURLEncoding.EncodeToString(b) }

// decodeRecord parses b, as load does from what Redis returned; the
// record's data is the payload as stored.
func decodeRecord(b []byte) (record, error) {
	r, tail, err := decodeRecordString(string(b))
	if err == nil {
		r.data = []byte(tail)
	}
	return r, err
}

// payload returns the record's payload, inflated if need be, refusing more
// than max bytes, as load does.
func (r *record) payload(max int) ([]byte, error) {
	if !r.compressed {
		return r.data, nil
	}
	return inflate(string(r.data), max)
}
