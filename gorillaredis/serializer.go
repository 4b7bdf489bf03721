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

// GobSerializer encodes values with encoding/gob, as gorilla's CookieStore
// does: an int stays an int, and any type registered with gob.Register
// round-trips. It is the default.
type GobSerializer struct{}

// Serialize implements Serializer.
func (GobSerializer) Serialize(values map[interface{}]interface{}) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return nil, fmt.Errorf("gorillaredis: gob encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Deserialize implements Serializer.
func (GobSerializer) Deserialize(data []byte, values map[interface{}]interface{}) error {
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&values); err != nil {
		return fmt.Errorf("gorillaredis: gob decode: %w", err)
	}
	return nil
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

// SerializeValue implements FieldSerializer: the value travels as a gob
// interface value, so its type must be registered with gob.Register unless
// it is a basic type, as with a whole map.
func (GobSerializer) SerializeValue(v interface{}) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return nil, fmt.Errorf("gorillaredis: gob encode: %w", err)
	}
	return buf.Bytes(), nil
}

// DeserializeValue implements FieldSerializer.
func (GobSerializer) DeserializeValue(data []byte) (interface{}, error) {
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
