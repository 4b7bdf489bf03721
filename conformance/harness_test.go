package conformance

import (
	"reflect"
	"testing"

	"github.com/redisession/redisession/core"
)

type plainHarness struct{}

func (plainHarness) Open(testing.TB, Env, App) Adapter { return Adapter{} }

type bothLayouts struct{ plainHarness }

func (bothLayouts) Layouts() []core.Layout { return []core.Layout{core.LayoutString, core.LayoutHash} }

// TestLayoutsOf: a Layouter runs under the layouts it names, any other
// harness under the string layout only.
func TestLayoutsOf(t *testing.T) {
	if got := layoutsOf(plainHarness{}); !reflect.DeepEqual(got, []core.Layout{core.LayoutString}) {
		t.Errorf("a plain Harness: layouts %v, want the string layout", got)
	}
	if got := layoutsOf(bothLayouts{}); !reflect.DeepEqual(got, []core.Layout{core.LayoutString, core.LayoutHash}) {
		t.Errorf("a Layouter: layouts %v, want both", got)
	}
}
