package bench

import (
	"strings"
	"testing"
)

// Slug is a store's name as a benchmark name: "boj/redistore" → "boj-redistore".
func slug(name string) string {
	name, _, _ = strings.Cut(name, " (")
	return strings.NewReplacer("/", "-", " ", "-").Replace(name)
}

// BenchmarkRequest runs every workload on every store, as `make bench` does,
// for profiling one of them:
//
//	go test -run '^$' -bench 'Request/gorillaredis/read' -cpuprofile cpu.out -memprofile mem.out
func BenchmarkRequest(b *testing.B) {
	admin, err := NewAdmin()
	if err != nil {
		b.Skip(err)
	}
	defer func() { _ = admin.Flush() }()
	for _, f := range Factories() {
		s, err := f.Build(Addr())
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range Workloads {
			b.Run(slug(f.Name)+"/"+w, func(b *testing.B) {
				if err := admin.Flush(); err != nil {
					b.Fatal(err)
				}
				Bench(s, w)(b)
			})
		}
		s.Close()
	}
}

func TestStores(t *testing.T) {
	admin, err := NewAdmin()
	if err != nil {
		t.Skip(err)
	}
	defer func() { _ = admin.Flush() }()
	for _, f := range Factories() {
		s, err := f.Build(Addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Check(); err != nil {
			t.Error(err)
		}
		s.Close()
	}
}

func TestParseCommand(t *testing.T) {
	in := "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$1\r\nx\r\n*1\r\n$4\r\nPI"
	var p respParser
	got := p.feed([]byte(in))
	if strings.Join(got, ",") != "get,client|setinfo" {
		t.Fatalf("got %q", got)
	}
	if got := p.feed([]byte("NG\r\n")); strings.Join(got, ",") != "ping" {
		t.Fatalf("got %q after the rest", got)
	}
}
