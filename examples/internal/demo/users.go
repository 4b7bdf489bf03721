package demo

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// The demo accounts. Their passwords are shown on the login page: this is a
// demo.
var demoAccounts = []struct{ Name, Password string }{
	{"alice", "wonderland"},
	{"bob", "the-builder"},
}

// DemoLogins lists the demo accounts as "alice / wonderland, ...".
func DemoLogins() string {
	s := make([]string, len(demoAccounts))
	for i, a := range demoAccounts {
		s[i] = a.Name + " / " + a.Password
	}
	return strings.Join(s, ", ")
}

// Account is a demo account as the login page shows it.
type Account struct{ Name, Password string }

// Accounts returns the demo accounts with their passwords.
func Accounts() []Account {
	out := make([]Account, len(demoAccounts))
	for i, a := range demoAccounts {
		out[i] = Account(a)
	}
	return out
}

// MinPasswordLen is the shortest new password ChangePassword accepts.
const MinPasswordLen = 8

// Errors of ChangePassword, shown to the user.
var (
	ErrWrongPassword = errors.New("the current password is wrong")
	ErrWeakPassword  = fmt.Errorf("the new password must have at least %d characters", MinPasswordLen)
	ErrMismatch      = errors.New("the new passwords do not match")
)

// Users is an in-memory account table with bcrypt password hashes.
type Users struct {
	cost  int
	dummy []byte // compared against for unknown names, so they take as long

	mu     sync.Mutex
	hashes map[string][]byte
}

// NewUsers returns the demo accounts, hashed with bcrypt at cost (zero
// means bcrypt.DefaultCost; tests use bcrypt.MinCost).
func NewUsers(cost int) *Users {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	u := &Users{cost: cost, hashes: map[string][]byte{}}
	u.dummy = u.hash("not a password")
	for _, a := range demoAccounts {
		u.hashes[a.Name] = u.hash(a.Password)
	}
	return u
}

func (u *Users) hash(password string) []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(password), u.cost)
	if err != nil {
		panic(err) // only for a cost out of range or a password over 72 bytes
	}
	return h
}

// Authenticate reports whether password is name's.
func (u *Users) Authenticate(name, password string) bool {
	u.mu.Lock()
	h, ok := u.hashes[name]
	u.mu.Unlock()
	if !ok {
		h = u.dummy
	}
	return bcrypt.CompareHashAndPassword(h, []byte(password)) == nil && ok
}

// ChangePassword sets name's password to next if current is right.
func (u *Users) ChangePassword(name, current, next, confirm string) error {
	if !u.Authenticate(name, current) {
		return ErrWrongPassword
	}
	if len(next) < MinPasswordLen || len(next) > 72 {
		return ErrWeakPassword
	}
	if next != confirm {
		return ErrMismatch
	}
	h := u.hash(next)
	u.mu.Lock()
	u.hashes[name] = h
	u.mu.Unlock()
	return nil
}
