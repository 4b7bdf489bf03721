package scsredis

import (
	"encoding/gob"
	"math/rand"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

type stringer struct{ ID string }

func (s stringer) String() string { return s.ID }

type cart struct {
	Items []string
	Total float64
}

func init() {
	gob.Register(stringer{})
	gob.Register(cart{})
	gob.Register(time.Time{}) // scs registers it too, in a manager's first Load
}

func randomValues(rng *rand.Rand) map[string]interface{} {
	v := map[string]interface{}{}
	for i, n := 0, rng.Intn(8); i < n; i++ {
		k := "k" + strconv.Itoa(rng.Intn(10))
		switch rng.Intn(10) {
		case 0:
			v[k] = "s" + strconv.Itoa(rng.Intn(3))
		case 1:
			v[k] = rng.Intn(3) - 1
		case 2:
			v[k] = rng.Intn(2) == 0
		case 3:
			v[k] = float64(rng.Intn(3)) / 2
		case 4:
			v[k] = []byte{byte(rng.Intn(3))}
		case 5:
			v[k] = int64(rng.Intn(3))
		case 6:
			v[k] = uint32(rng.Intn(3))
		case 7:
			v[k] = time.Unix(int64(rng.Intn(3)), 0).UTC()
		case 8:
			v[k] = []string{"a", strconv.Itoa(rng.Intn(2))}
		default:
			v[k] = cart{Items: []string{"x"}, Total: float64(rng.Intn(2))}
		}
	}
	switch rng.Intn(7) {
	case 0:
		v["user_id"] = "u" + strconv.Itoa(rng.Intn(3))
	case 1:
		v["user_id"] = rng.Intn(3)
	case 2:
		v["user_id"] = int8(rng.Intn(3))
	case 3:
		v["user_id"] = uint64(rng.Intn(3))
	case 4:
		v["user_id"] = ""
	case 5:
		v["user_id"] = stringer{"st"}
	}
	return v
}

// TestGobWireAgreesWithDecoding: what gobwire.go reads of GobCodec bytes
// (deadline, user, sameness) is what decoding them says, for random
// sessions, each encoded twice (in two map orders).
func TestGobWireAgreesWithDecoding(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	codec := scs.GobCodec{}
	var blobs [][]byte
	for i := 0; i < 3000; i++ {
		values := randomValues(rng)
		deadline := time.Time{}
		if rng.Intn(4) > 0 {
			deadline = time.Unix(1700000000+int64(rng.Intn(3)), 0)
		}
		for j := 0; j < 2; j++ {
			b, err := codec.Encode(deadline, values)
			if err != nil {
				t.Fatal(err)
			}
			blobs = append(blobs, b)
		}
	}
	readable := 0
	for i, b := range blobs {
		g, ok := readGobBlob(b)
		if !ok {
			continue
		}
		readable++
		d, v, err := codec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := g.Deadline(); !ok || !got.Equal(d) {
			t.Fatalf("blob %d: deadline %v, decoded %v", i, got, d)
		}
		if got, ok := g.userID("user_id"); ok {
			if want, err := userID(v["user_id"], "user_id"); err != nil || got != want {
				t.Fatalf("blob %d: user %q, decoded %q (%v)", i, got, want, err)
			}
		}
		// Soundness: "same" only for blobs that decode equal.
		for _, j := range []int{i ^ 1, rng.Intn(len(blobs))} {
			h, ok := readGobBlob(blobs[j])
			if !ok || !g.same(&h) {
				continue
			}
			d2, v2, _ := codec.Decode(blobs[j])
			if !d.Equal(d2) || !reflect.DeepEqual(v, v2) {
				t.Fatalf("blobs %d and %d read as the same but decode to %v %v and %v %v", i, j, d, v, d2, v2)
			}
		}
	}
	// Usefulness: two encodings of the same common-typed values are seen as
	// the same (what lets a read-only request skip decoding).
	pairs, same := 0, 0
	for i := 0; i+1 < len(blobs); i += 2 {
		g, ok1 := readGobBlob(blobs[i])
		h, ok2 := readGobBlob(blobs[i+1])
		if ok1 && ok2 {
			pairs++
			if g.same(&h) {
				same++
			}
		}
	}
	if readable < len(blobs)/5 || same != pairs {
		t.Errorf("%d of %d blobs readable on the wire; of %d readable re-encodings, %d seen as the same (want all)", readable, len(blobs), pairs, same)
	}
	t.Logf("%d of %d blobs readable on the wire (the rest hold other types: decoded); %d of %d readable re-encodings seen as the same", readable, len(blobs), same, pairs)
}

// FuzzGobWire: any bytes read on the wire never panic, and two blobs seen
// as the same never decode to different sessions.
func FuzzGobWire(f *testing.F) {
	codec := scs.GobCodec{}
	a, _ := codec.Encode(time.Unix(1700000000, 0), map[string]interface{}{"user_id": "alice", "n": 42, "f": true})
	b, _ := codec.Encode(time.Unix(1700000000, 0), map[string]interface{}{"user_id": "alice", "n": 42, "f": true})
	c, _ := codec.Encode(time.Time{}, map[string]interface{}{"cart": cart{Items: []string{"x"}}, "who": stringer{"s"}})
	f.Add(a, b)
	f.Add(a, c)
	f.Add(c, c)
	f.Fuzz(func(t *testing.T, x, y []byte) {
		g, ok1 := readGobBlob(x)
		h, ok2 := readGobBlob(y)
		if ok1 {
			g.Deadline()
			g.userID("user_id")
		}
		if !ok1 || !ok2 || !g.same(&h) {
			return
		}
		d1, v1, err1 := codec.Decode(x)
		d2, v2, err2 := codec.Decode(y)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("seen as the same, but one decodes (%v) and the other not (%v)", err1, err2)
		}
		if err1 == nil && (!d1.Equal(d2) || !reflect.DeepEqual(v1, v2)) {
			t.Fatalf("seen as the same, but decode to %v %v and %v %v", d1, v1, d2, v2)
		}
	})
}
