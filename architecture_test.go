package pcx_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The dependency rule of ARCHITECTURE.md: dependencies point inward.
// Each rule names the packages it covers (by import path prefix) and the
// imports their non-test files may have besides the standard library.
var layerRules = []struct {
	layer   string
	allowed []string // import path prefixes
	denied  []string // checked after allowed is nil: prefixes never allowed
}{
	{layer: "pcx/domain", allowed: []string{"golang.org/x/text/"}},
	{layer: "pcx/ports/mocks", allowed: []string{"pcx/domain", "pcx/ports", "go.uber.org/mock/"}},
	{layer: "pcx/ports", allowed: []string{"pcx/domain"}},
	{layer: "pcx/app", allowed: []string{"pcx/domain", "pcx/ports", "pcx/app/", "golang.org/x/sync/"}},
	{layer: "pcx/adapters", denied: []string{"pcx/app", "pcx/cmd", "pcx/loadgen"}},
	{layer: "pcx/loadgen", denied: []string{"pcx/app", "pcx/cmd"}},
}

func TestDependenciesPointInward(t *testing.T) {
	imports := packageImports(t)
	require.NotEmpty(t, imports)
	for pkg, imps := range imports {
		for _, rule := range layerRules {
			if pkg != rule.layer && !strings.HasPrefix(pkg, rule.layer+"/") {
				continue
			}
			for _, imp := range imps {
				require.Truef(t, importAllowed(imp, rule.allowed, rule.denied),
					"%s imports %s, against the dependency rule for %s (see ARCHITECTURE.md)", pkg, imp, rule.layer)
			}
			break // the first matching rule is the most specific one
		}
	}
}

func TestDependencyRuleCatchesAViolation(t *testing.T) {
	require.False(t, importAllowed("pcx/adapters/tcp", []string{"pcx/domain", "pcx/ports"}, nil))
	require.False(t, importAllowed("pcx/app/server", nil, []string{"pcx/app"}))
	require.True(t, importAllowed("net", []string{"pcx/domain"}, nil))
}

func importAllowed(imp string, allowed, denied []string) bool {
	isStd := !strings.Contains(strings.Split(imp, "/")[0], ".") && !strings.HasPrefix(imp, "pcx")
	if allowed != nil {
		return isStd || hasAnyPrefix(imp, allowed)
	}
	return !hasAnyPrefix(imp, denied)
}

func hasAnyPrefix(imp string, prefixes []string) bool {
	for _, p := range prefixes {
		if imp == strings.TrimSuffix(p, "/") || strings.HasPrefix(imp, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// packageImports maps each package of the module to the imports of its
// non-test files.
func packageImports(t *testing.T) map[string][]string {
	t.Helper()
	result := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := path.Join("pcx", filepath.ToSlash(filepath.Dir(p)))
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			result[pkg] = append(result[pkg], imp)
		}
		return nil
	})
	require.NoError(t, err)
	return result
}
