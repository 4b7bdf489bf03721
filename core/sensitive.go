package core

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrSensitive is returned (wrapped, with the value's name) by a save of a
// session value whose name Options.Sensitive denies.
var ErrSensitive = errors.New("redisession: a session value looks like sensitive data")

// DefaultSensitive is a deny-list for Options.Sensitive: the names under
// which applications put what a session must never hold (a password, a
// card number or its security code, a national id).
var DefaultSensitive = []string{
	"password", "passwd", "passphrase",
	"card number", "credit card", "cvv", "cvv2", "cvc", "security code",
	"ssn", "social security",
}

// sensitiveLong is the length from which a pattern matches anywhere in a
// name; a shorter one ("cvv", "ssn") matches only a whole word of it.
const sensitiveLong = 6

// denyList is Options.Sensitive, normalized.
type denyList struct {
	long  []string // match anywhere in the normalized name
	short []string // match a whole word
	orig  map[string]string
}

func newDenyList(patterns []string) denyList {
	var d denyList
	for _, p := range patterns {
		n := normalizeName(p)
		if n == "" {
			continue
		}
		if d.orig == nil {
			d.orig = map[string]string{}
		}
		d.orig[n] = p
		if len(n) >= sensitiveLong {
			d.long = append(d.long, n)
		} else {
			d.short = append(d.short, n)
		}
	}
	return d
}

// normalizeName lowercases name and drops what is not a letter or a digit,
// so "Card-Number", "card_number" and "cardNumber" are all "cardnumber".
func normalizeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// words splits name at what is not a letter or a digit and where a lower
// case letter or a digit is followed by an upper case one ("userSSN" is
// "user", "ssn"), lowercased.
func words(name string) []string {
	var out []string
	var cur strings.Builder
	prevLowerOrDigit := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range name {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			prevLowerOrDigit = false
			continue
		case unicode.IsUpper(r) && prevLowerOrDigit:
			flush()
		}
		cur.WriteRune(unicode.ToLower(r))
		prevLowerOrDigit = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	return out
}

// match returns the pattern that denies name, "" if none does.
func (d denyList) match(name string) string {
	if d.orig == nil {
		return ""
	}
	n := normalizeName(name)
	for _, p := range d.long {
		if strings.Contains(n, p) {
			return d.orig[p]
		}
	}
	if len(d.short) > 0 {
		for _, w := range words(name) {
			for _, p := range d.short {
				if w == p {
					return d.orig[p]
				}
			}
		}
	}
	return ""
}

// CheckName returns an error wrapping ErrSensitive, naming the value and
// the pattern, when Options.Sensitive denies a session value of this name;
// nil otherwise, and always when Options.Sensitive is empty. The adapters
// call it for every value of a session they save, and write nothing when
// it fails.
func (s *Store) CheckName(name string) error {
	if p := s.deny.match(name); p != "" {
		return fmt.Errorf("%w: the value %q matches %q in Options.Sensitive: keep such data out of the session "+
			"(store a reference, or nothing), or take the pattern out of the list", ErrSensitive, name, p)
	}
	return nil
}
