package scsredis

import (
	"testing"
	"time"
)

func TestTrackerForgets(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := newTracker(time.Minute)
	tr.now = func() time.Time { return now }
	tr.swept = now
	tr.gone("a")
	tr.saved("b", nil)
	if _, st := tr.forCommit("a"); st != dead {
		t.Errorf("a deleted token is %v, want dead", st)
	}
	now = now.Add(30 * time.Second)
	tr.gone("c")
	now = now.Add(31 * time.Second)
	if _, st := tr.forCommit("a"); st != unseen {
		t.Errorf("after MaxRequestDuration a token is %v, want forgotten", st)
	}
	if _, st := tr.forCommit("c"); st != dead {
		t.Errorf("a token deleted within MaxRequestDuration is %v, want dead", st)
	}
	if n := tr.size(); n != 1 {
		t.Errorf("%d entries after the sweep, want 1", n)
	}
}
