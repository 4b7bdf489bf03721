package gorillaredis

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
)

// Serializer turns session values into the bytes kept in Redis and back.
type Serializer interface {
	// Serialize encodes values.
	Serialize(values map[interface{}]interface{}) ([]byte, error)
	// Deserialize decodes data into values, which is empty and not nil.
	Deserialize(data []byte, values map[interface{}]interface{}) error
}

// GobSerializer keeps gob's type fidelity, as gorilla's CookieStore does:
// an int stays an int, and any type registered with gob.Register
// round-trips. It is the default. The common value types (strings, the
// integer and float types, bool, []byte, time.Time, and slices and
// string-keyed maps of them) are written in a compact, canonical encoding
// that needs no gob.Register, and the rest with gob, value by value; a map
// with a key that is not a string is one gob map. It reads the sessions
// earlier versions wrote (all gob). Equal values always make equal bytes,
// so a Save of unchanged values decodes nothing (but a gob value's bytes,
// when they differ).
type GobSerializer struct{}

// Serialize implements Serializer.
func (GobSerializer) Serialize(values map[interface{}]interface{}) ([]byte, error) {
	b, ok, err := encodeCompact(values)
	if ok || err != nil {
		return b, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return nil, fmt.Errorf("gorillaredis: gob encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Deserialize implements Serializer.
func (GobSerializer) Deserialize(data []byte, values map[interface{}]interface{}) error {
	if isCompact(data) {
		return decodeCompact(data, values)
	}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&values); err != nil {
		return fmt.Errorf("gorillaredis: gob decode: %w", err)
	}
	return nil
}

// same implements comparer.
func (GobSerializer) same(old, b []byte, values map[interface{}]interface{}) (same, ok bool) {
	return sameCompact(old, b, values)
}

// sameValue implements comparer: single values are compact only when
// nothing in them needs gob, so two compact encodings are canonical.
func (GobSerializer) sameValue(old, b []byte) (same, ok bool) {
	if isCompact(old) && isCompact(b) {
		return bytes.Equal(old, b), true
	}
	return false, false
}

// comparer is implemented by serializers whose bytes tell, without
// decoding, whether two encodings hold equal values. ok is false when they
// cannot tell (old bytes in an earlier format), and the values are then
// decoded and compared.
type comparer interface {
	same(old, b []byte, values map[interface{}]interface{}) (same, ok bool)
	sameValue(old, b []byte) (same, ok bool)
}

// JSONSerializer encodes values as a JSON object, readable in redis-cli.
// Keys must be strings; values decode the encoding/json way (numbers become
// float64, structs become map[string]interface{}).
type JSONSerializer struct{}

// Serialize implements Serializer. A key that is not a string is an error.
func (JSONSerializer) Serialize(values map[interface{}]interface{}) ([]byte, error) {
	m := make(map[string]interface{}, len(values))
	for k, v := range values {
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("gorillaredis: JSONSerializer: key %v of type %T is not a string", k, k)
		}
		m[ks] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("gorillaredis: json encode: %w", err)
	}
	return b, nil
}

// Deserialize implements Serializer.
func (JSONSerializer) Deserialize(data []byte, values map[interface{}]interface{}) error {
	var m map[string]interface{}
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("gorillaredis: json decode: %w", err)
	}
	for k, v := range m {
		values[k] = v
	}
	return nil
}

// FieldSerializer encodes one session value at a time, for core's hash
// layout (core.LayoutHash), where each value is its own hash field and a
// save writes only the values that changed. GobSerializer and
// JSONSerializer implement it. With the hash layout, session keys must be
// strings.
type FieldSerializer interface {
	// SerializeValue encodes one value.
	SerializeValue(v interface{}) ([]byte, error)
	// DeserializeValue decodes what SerializeValue made.
	DeserializeValue(data []byte) (interface{}, error)
}

// SerializeValue implements FieldSerializer: a value of the common types
// is written compact, as in a whole map; any other travels as a gob
// interface value, so its type must be registered with gob.Register.
func (GobSerializer) SerializeValue(v interface{}) ([]byte, error) {
	if b, ok := appendKnown([]byte{compactMagic, compactVersion}, v, 0); ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return nil, fmt.Errorf("gorillaredis: gob encode: %w", err)
	}
	return buf.Bytes(), nil
}

// DeserializeValue implements FieldSerializer.
func (GobSerializer) DeserializeValue(data []byte) (interface{}, error) {
	if isCompact(data) {
		return decodeValue(data)
	}
	var v interface{}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
		return nil, fmt.Errorf("gorillaredis: gob decode: %w", err)
	}
	return v, nil
}

// SerializeValue implements FieldSerializer.
func (JSONSerializer) SerializeValue(v interface{}) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("gorillaredis: json encode: %w", err)
	}
	return b, nil
}

// DeserializeValue implements FieldSerializer.
func (JSONSerializer) DeserializeValue(data []byte) (interface{}, error) {
	var v interface{}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("gorillaredis: json decode: %w", err)
	}
	return v, nil
}
