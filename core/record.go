package core

import (
	"encoding/binary"
	"errors"
	"time"
)

// A record is what one session key holds. The encoding is compact binary so a
// session with a 1 KB payload costs little more than its payload in Redis:
//
//	byte    0xB1 (format 1)
//	uvarint created, unix ms
//	uvarint last seen − created, ms
//	uvarint deadline − created, ms
//	uvarint len, bytes   user id
//	uvarint len, bytes   user agent
//	uvarint len, bytes   remote address
//	rest                 the adapter's payload
//
// Anything else under a session key (another program's data, a truncated
// write, garbage) fails to decode and loads as a miss.
type record struct {
	created    int64 // unix ms
	lastSeen   int64
	deadline   int64
	userID     string
	userAgent  string
	remoteAddr string
	data       []byte
}

const recordFormat1 = 0xB1

var errMalformed = errors.New("malformed record")

func (r *record) encode() []byte {
	last := r.lastSeen - r.created
	if last < 0 {
		last = 0
	}
	dead := r.deadline - r.created
	if dead < 0 {
		dead = 0
	}
	n := 1 + 3*binary.MaxVarintLen64 + 3*binary.MaxVarintLen32 +
		len(r.userID) + len(r.userAgent) + len(r.remoteAddr) + len(r.data)
	b := make([]byte, 0, n)
	b = append(b, recordFormat1)
	b = binary.AppendUvarint(b, uint64(r.created))
	b = binary.AppendUvarint(b, uint64(last))
	b = binary.AppendUvarint(b, uint64(dead))
	for _, s := range [...]string{r.userID, r.userAgent, r.remoteAddr} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, r.data...)
}

// decodeRecord parses b. The returned record's data aliases b.
func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) == 0 || b[0] != recordFormat1 {
		return r, errMalformed
	}
	b = b[1:]
	var nums [3]uint64
	for i := range nums {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > maxMillis {
			return r, errMalformed
		}
		nums[i] = v
		b = b[n:]
	}
	r.created = int64(nums[0])
	r.lastSeen = r.created + int64(nums[1])
	r.deadline = r.created + int64(nums[2])
	if r.lastSeen > maxMillis || r.deadline > maxMillis {
		return r, errMalformed
	}
	var strs [3]string
	for i := range strs {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return r, errMalformed
		}
		strs[i] = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	r.userID, r.userAgent, r.remoteAddr = strs[0], strs[1], strs[2]
	r.data = b
	return r, nil
}

// maxMillis bounds every stored time (year 2500) so that sums cannot overflow.
const maxMillis = 16725225600000

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms) }
