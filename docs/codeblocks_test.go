package docs_test

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The Go blocks of the docs (README.md and docs/*.md) compile against the
// library as it is: a block that is a whole program (it starts with
// "package") is type-checked alone; the other blocks of one document are
// type-checked together, as one package (later blocks call what earlier
// ones declared): a block of declarations as a file, a block of statements
// as the body of a function whose parameters are the names the docs use
// for what the text around them has at hand (c, the task's context; l, a
// loop; g, a group; t, a test...), beside a prelude that declares the
// placeholders the prose introduces (fetch, save, Job, db...). Unused
// imports and variables are allowed; anything else is an error: a renamed
// method, a changed signature, a typo. A block fenced as plain text (not
// go) is not checked: design.md shows internal types that way.
func TestDocCodeBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the docs' code against the library's source")
	}
	docs, _ := filepath.Glob("*.md")
	docs = append(docs, "../README.md")
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)
	checked := 0
	for _, doc := range docs {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		var rest []block
		for _, b := range goBlocks(string(data)) {
			b.doc = doc
			checked++
			if strings.HasPrefix(strings.TrimSpace(b.src), "package ") {
				check(t, fset, imp, []block{b})
				continue
			}
			if !parsesAsDecls(b.src) {
				b.src = fmt.Sprintf("func _(%s) error {\n%s\nreturn nil\n}\n", params, b.src)
				b.wrapped = true
			}
			rest = append(rest, b)
		}
		if len(rest) > 0 {
			check(t, fset, imp, append(rest, block{doc: "the prelude", src: prelude + preludeOf[filepath.Base(doc)]}))
		}
	}
	if checked == 0 {
		t.Fatal("no Go block found")
	}
}

type block struct {
	doc     string
	line    int // of the block's first line in doc
	src     string
	wrapped bool // statements made a function: one line added before them
}

var fence = regexp.MustCompile("(?s)```go\n(.*?)```")

// goBlocks returns the ```go blocks of a markdown text.
func goBlocks(md string) []block {
	var out []block
	for _, m := range fence.FindAllStringSubmatchIndex(md, -1) {
		out = append(out, block{line: strings.Count(md[:m[2]], "\n") + 1, src: md[m[2]:m[3]]})
	}
	return out
}

func parsesAsDecls(src string) bool {
	_, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, 0)
	return err == nil
}

// params are the names statement blocks use for what they are given.
const params = `c *aio.Ctx, l *aio.Loop, g *aio.Group, t *testing.T, ctx context.Context,
	urls []string, url string, addr string, loop *aio.Loop`

// prelude declares the placeholders the docs' prose introduces ("a fetch
// that suspends", "a database handle"), as the text describes them.
const prelude = `
var balance int
func save(c *aio.Ctx, v int) error { return nil }
func get(c *aio.Ctx, url string) (string, error) { return "", nil }
type Job struct{}
var work []Job
func process(c *aio.Ctx, j Job) {}
var jobs *aio.Chan[int]
var quit *aio.Chan[struct{}]
func report(c *aio.Ctx) {}
type Row struct{}
var db interface {
	QueryContext(ctx context.Context, q string) ([]Row, error)
}
func slowCall(ctx context.Context) (int, error) { return 0, nil }
func slowLookup() int { return 0 }
func download(url string) ([]byte, error) { return nil, nil }
func retry(c *aio.Ctx, attempts int, first time.Duration) error { return nil }
var _ = slog.Info
`

// preludeOf adds, per document, what its prose assumes and another
// document declares differently.
var preludeOf = map[string]string{
	"README.md": "func fetch(c *aio.Ctx, url string) error { return nil }\nvar urls []string\n",
}

// imports are the packages the docs use; the check allows unused ones.
var imports = []string{
	"bufio", "context", "crypto/tls", "encoding/json", "errors", "fmt", "io", "log", "log/slog", "net", "net/http",
	"os", "os/signal", "strings", "sync", "syscall", "testing", "time",
	"github.com/aiogo/aio/aio", "github.com/aiogo/aio/aio/aiotest", "github.com/aiogo/aio/aio/executor", "github.com/aiogo/aio/aio/inspect",
	"github.com/aiogo/aio/aio/locks", "github.com/aiogo/aio/aio/loops", "github.com/aiogo/aio/aio/queue",
	"github.com/aiogo/aio/aio/socket", "github.com/aiogo/aio/aio/stream", "github.com/aiogo/aio/aio/subprocess",
	"github.com/aiogo/aio/aio/transport",
}

var soft = regexp.MustCompile(`declared and not used|imported and not used|"[^"]+" imported as \w+ and not used`)

// check type-checks blocks, each a file of one package with the docs'
// imports, and reports every error but the unused ones.
func check(t *testing.T, fset *token.FileSet, imp types.Importer, blocks []block) {
	t.Helper()
	var files []*ast.File
	where := map[string]block{}
	for i, b := range blocks {
		name := fmt.Sprintf("%s#%d", b.doc, i)
		body := b.src
		if !strings.HasPrefix(strings.TrimSpace(body), "package ") {
			var ib strings.Builder
			ib.WriteString("package p\nimport (\n")
			for _, p := range imports {
				fmt.Fprintf(&ib, "\t%q\n", p)
			}
			ib.WriteString(")\n")
			body = ib.String() + body
			b.line -= len(imports) + 3 // the lines put before the block
		}
		if b.wrapped {
			b.line -= strings.Count(params, "\n") + 1
		}
		f, err := parser.ParseFile(fset, name, body, 0)
		if err != nil {
			t.Errorf("%s:%d: does not parse: %v", b.doc, b.line, err)
			continue
		}
		where[name] = b
		files = append(files, f)
	}
	if len(files) == 0 {
		return
	}
	var errs []string
	conf := types.Config{Importer: imp, Error: func(err error) {
		te, ok := err.(types.Error)
		if !ok || soft.MatchString(te.Msg) {
			return
		}
		pos := fset.Position(te.Pos)
		b := where[pos.Filename]
		errs = append(errs, fmt.Sprintf("%s:%d: %s", b.doc, b.line+pos.Line-1, te.Msg))
	}}
	conf.Check("p", fset, files, nil)
	sort.Strings(errs)
	for _, e := range errs {
		t.Error(e)
	}
}
