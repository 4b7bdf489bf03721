package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/redisession/redisession/core"
)

// TestCheckName: DefaultSensitive denies the names a password, a card or a
// national id is kept under, however they are spelled, and lets the
// ordinary names of a session through; with no list nothing is denied.
func TestCheckName(t *testing.T) {
	s := core.New(nil, core.Options{Sensitive: core.DefaultSensitive})
	denied := []string{"password", "Password", "new_password", "userPassword", "PASSWORD_HASH", "passwd",
		"card_number", "cardNumber", "CreditCardNumber", "credit-card", "cvv", "card_cvv", "cardCVV", "CVV2",
		"cvc", "ssn", "userSSN", "social_security_number", "security code", "Passphrase"}
	for _, name := range denied {
		err := s.CheckName(name)
		if !errors.Is(err, core.ErrSensitive) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("%q: %v, want ErrSensitive naming it", name, err)
		}
	}
	allowed := []string{"user_id", "theme", "cart", "csrf_token", "cvvalue", "lessons", "passport", "crossnet",
		"session", "flash", "_flash", "", "card", "number", "security", "code", "pass"}
	for _, name := range allowed {
		if err := s.CheckName(name); err != nil {
			t.Errorf("%q: %v, want allowed", name, err)
		}
	}
	off := core.New(nil, core.Options{})
	for _, name := range denied {
		if err := off.CheckName(name); err != nil {
			t.Errorf("no list, %q: %v", name, err)
		}
	}
	custom := core.New(nil, core.Options{Sensitive: []string{"API key", "pin", "", "--"}})
	for name, want := range map[string]bool{"apiKey": true, "stripe_api_key": true, "pin": true, "cardPIN": true,
		"pinned": false, "password": false, "spin": false} {
		if got := custom.CheckName(name) != nil; got != want {
			t.Errorf("custom list, %q: denied %v, want %v", name, got, want)
		}
	}
}
