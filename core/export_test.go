package core

// Ordered makes s send dependent steps one after another, as it does on
// Cluster, so the Cluster code paths run on any server.
func Ordered(s *Store) *Store { s.ordered = true; return s }

// IsOrdered reports whether s sends dependent steps one after another.
func IsOrdered(s *Store) bool { return s.ordered }
