package bench

import (
	"encoding/json"
	"strconv"
)

// Values is the session every store keeps: a logged-in shopper with a
// profile, preferences and a small cart, about 1 KB of JSON-ish strings.
// Each framework stores it as its own string values under these keys.
var Values = []KV{
	{"user_id", "u-000000"}, // replaced per login
	{"user", `{"id":48213,"name":"Ada Lovelace","email":"ada.lovelace@example.com","roles":["customer","beta"],"created":"2024-03-01T10:00:00Z","verified":true}`},
	{"prefs", `{"theme":"dark","lang":"en-GB","tz":"Europe/London","currency":"GBP","newsletter":true,"notify":{"email":true,"sms":false,"push":true},"page_size":24}`},
	{"cart", `[{"sku":"A-1042","name":"Blue enamel mug","qty":2,"price":1299},{"sku":"B-2210","name":"Pour-over coffee filter, size 02","qty":1,"price":899},{"sku":"C-0007","name":"Single-origin beans 250g, Ethiopia","qty":3,"price":1450},{"sku":"D-3391","name":"Gooseneck kettle 1L","qty":1,"price":4999},{"sku":"E-0150","name":"Gift wrap","qty":1,"price":350}]`},
	{"csrf", "Qm9vdHN0cmFwcGVkLWNzcmYtdG9rZW4tZm9yLWJlbmNo"},
	{"last_page", "/products/A-1042?ref=home&utm_source=newsletter"},
	{"flash", ""},
	{"ab", `{"checkout":"B","search":"A","banner":"control"}`},
}

// KV is one session value.
type KV struct{ K, V string }

// UserKey is the value that binds a session to a user in our adapters.
const UserKey = "user_id"

// ChangedKey is the value the "change one value" workload rewrites.
const ChangedKey = "last_page"

// PayloadBytes is the raw size of Values: keys plus values.
func PayloadBytes() int {
	n := 0
	for _, kv := range Values {
		n += len(kv.K) + len(kv.V)
	}
	return n
}

// PayloadJSON is Values as one JSON object, with the given user id: what
// the floor and core (which store opaque bytes) keep.
func PayloadJSON(user string) []byte {
	m := make(map[string]string, len(Values))
	for _, kv := range Values {
		m[kv.K] = kv.V
	}
	m[UserKey] = user
	b, _ := json.Marshal(m)
	return b
}

// changedPage is the value written by the i-th "change one value" request:
// always the same length, always different from the one before.
func changedPage(i int) string {
	s := strconv.Itoa(100000000 + i%100000000)
	return "/products/A-1042?ref=home&utm_source=news" + s[1:]
}
