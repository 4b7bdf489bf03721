package conformance

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite Run's doc table in conformance.go from the property list")

// TestRunDoc: the table in Run's doc comment is the property list, name for
// name and spec for spec, in order: the list is the one place a property's
// spec is written, and `go test ./conformance -run TestRunDoc -update`
// writes the table from it.
func TestRunDoc(t *testing.T) {
	const file = "conformance.go"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var doc *ast.CommentGroup
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "Run" && fd.Recv == nil {
			doc = fd.Doc
		}
	}
	if doc == nil {
		t.Fatalf("%s: Run has no doc comment", file)
	}
	// The table is the first run of indented lines.
	var first, last int // indexes into doc.List
	for i, c := range doc.List {
		if strings.HasPrefix(c.Text, "//\t") {
			if first == 0 {
				first = i
			}
			last = i
		} else if first != 0 {
			break
		}
	}
	if first == 0 {
		t.Fatalf("%s: Run's doc has no table of properties", file)
	}
	var got []string
	for _, c := range doc.List[first : last+1] {
		got = append(got, c.Text)
	}
	want := docTable()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	if *update {
		start := fset.Position(doc.List[first].Pos()).Offset
		end := fset.Position(doc.List[last].End()).Offset
		out := string(src[:start]) + strings.Join(want, "\n") + string(src[end:])
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote Run's doc table in %s", file)
		return
	}
	t.Errorf("Run's doc table in %s is not the property list (go test -run TestRunDoc -update rewrites it); it should read:\n%s",
		file, strings.Join(want, "\n"))
}

// docTable is Run's doc table as comment lines: each property's name, then
// its spec wrapped into a column of its own.
func docTable() []string {
	col := 0
	for _, p := range properties {
		col = max(col, len(p.name)+2)
	}
	const width = 72 // of the spec column
	var lines []string
	for _, p := range properties {
		line := p.name + strings.Repeat(" ", col-len(p.name))
		n := 0
		for _, w := range strings.Fields(p.spec) {
			if n > 0 && n+1+utf8.RuneCountInString(w) > width {
				lines = append(lines, "//\t"+strings.TrimRight(line, " "))
				line, n = strings.Repeat(" ", col), 0
			}
			if n > 0 {
				line += " "
				n++
			}
			line += w
			n += utf8.RuneCountInString(w)
		}
		lines = append(lines, "//\t"+line)
	}
	return lines
}

// TestPropertiesAreNamedOnce: every property has a spec and a name no
// other has.
func TestPropertiesAreNamedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range properties {
		if p.spec == "" || p.run == nil {
			t.Errorf("%s: no spec or no check", p.name)
		}
		if seen[p.name] {
			t.Errorf("%s: two properties of that name", p.name)
		}
		seen[p.name] = true
	}
}
