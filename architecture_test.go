package pcx_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layerRule is the dependency rule of ARCHITECTURE.md for the packages
// under one import path. Everything is denied that a rule does not allow:
// a package may import the standard library, itself, the module's packages
// under pcx, and the outside modules under external (or any outside module
// when anyExternal is set). Test files may import, besides, the test
// libraries and what testPcx lists.
type layerRule struct {
	layer       string
	pcx         []string // the module's packages (path prefixes) it may import
	external    []string // outside modules (path prefixes) it may import
	anyExternal bool     // any outside module: the edge of the hexagon
	testPcx     []string // more of the module, for _test.go files only
	exact       bool     // the layer's own package only, not those under it
}

// testLibraries may be imported by every test file.
var testLibraries = []string{"github.com/stretchr/testify", "go.uber.org/goleak", "go.uber.org/mock"}

// Dependencies point inward: domain ← ports ← app; adapters implement
// ports; only cmd knows every piece.
var layerRules = []layerRule{
	{layer: "pcx", exact: true}, // architecture_test.go itself
	{layer: "pcx/domain", pcx: []string{"pcx/domain"}, external: []string{"golang.org/x/text", "go.mau.fi/util/confusable"}},
	{layer: "pcx/ports", pcx: []string{"pcx/domain"}},
	{layer: "pcx/ports/transporttest", pcx: []string{"pcx/domain", "pcx/ports"}, external: []string{"github.com/stretchr/testify"}},
	{layer: "pcx/ports/bustest", pcx: []string{"pcx/domain", "pcx/ports"}, external: []string{"github.com/stretchr/testify"}},
	{layer: "pcx/ports/namestest", pcx: []string{"pcx/domain", "pcx/ports"}, external: []string{"github.com/stretchr/testify"}},
	{layer: "pcx/ports/filesharetest", pcx: []string{"pcx/domain", "pcx/ports"}, external: []string{"github.com/stretchr/testify"}},
	{layer: "pcx/ports/mocks", pcx: []string{"pcx/domain", "pcx/ports"}, external: []string{"go.uber.org/mock"}},
	{
		// x/time/rate: the per-connection rate limit's token bucket.
		layer: "pcx/app", pcx: []string{"pcx/domain", "pcx/ports"}, external: []string{"github.com/google/wire", "golang.org/x/sync", "golang.org/x/time/rate"},
		testPcx: []string{"pcx/ports/mocks", "pcx/adapters", "pcx/internal/testpeer"},
	},
	{
		layer: "pcx/adapters", pcx: []string{"pcx/domain", "pcx/ports", "pcx/adapters", "pcx/internal/ansi", "pcx/internal/fileoffers"}, anyExternal: true,
		testPcx: []string{"pcx/internal/natstest"},
	},
	{layer: "pcx/internal", pcx: []string{"pcx/domain", "pcx/ports", "pcx/adapters", "pcx/internal"}, anyExternal: true},
	// Test helpers, for test files (adapters may import them only there):
	// they import none of the module.
	{layer: "pcx/internal/natstest", external: []string{"github.com/nats-io", "github.com/stretchr/testify"}},
	{layer: "pcx/internal/testbin", external: []string{"go.uber.org/goleak"}},
	{layer: "pcx/internal/loadgen", pcx: []string{"pcx/domain", "pcx/ports", "pcx/adapters", "pcx/internal"}, anyExternal: true},
	{layer: "pcx/cmd", pcx: []string{"pcx/domain", "pcx/ports", "pcx/adapters", "pcx/app", "pcx/internal"}, anyExternal: true},
	{layer: "pcx/e2e", pcx: []string{"pcx/domain", "pcx/ports", "pcx/adapters", "pcx/app", "pcx/internal"}, anyExternal: true},
}

// pkgImports are the imports of one package, its non-test files and its
// test files apart.
type pkgImports struct{ code, tests []string }

func TestDependenciesPointInward(t *testing.T) {
	pkgs := moduleImports(t)
	require.NotEmpty(t, pkgs)
	for _, v := range dependencyViolations(pkgs, layerRules) {
		t.Error(v)
	}
}

// The rule above must be seen to fail: each case is one mutation of the
// module or of the rules that the check has to catch.
func TestDependencyRuleCatchesEachMutation(t *testing.T) {
	base := map[string]pkgImports{
		"pcx":               {tests: []string{"go/parser", "github.com/stretchr/testify/require"}},
		"pcx/domain":        {code: []string{"strings", "golang.org/x/text/cases"}, tests: []string{"pcx/domain", "github.com/stretchr/testify/require"}},
		"pcx/ports":         {code: []string{"pcx/domain"}},
		"pcx/app/server":    {code: []string{"pcx/ports"}, tests: []string{"pcx/app/server", "pcx/adapters/memory"}},
		"pcx/adapters/tcp":  {code: []string{"pcx/ports", "golang.org/x/sys/unix"}, tests: []string{"pcx/internal/natstest"}},
		"pcx/internal/ansi": {code: []string{"strings"}},
	}
	rules := []layerRule{
		{layer: "pcx", exact: true},
		{layer: "pcx/domain", pcx: []string{"pcx/domain"}, external: []string{"golang.org/x/text"}},
		{layer: "pcx/ports", pcx: []string{"pcx/domain"}},
		{layer: "pcx/app", pcx: []string{"pcx/domain", "pcx/ports"}, testPcx: []string{"pcx/adapters"}},
		{layer: "pcx/adapters", pcx: []string{"pcx/domain", "pcx/ports"}, anyExternal: true, testPcx: []string{"pcx/internal/natstest"}},
		{layer: "pcx/internal", pcx: []string{"pcx/domain"}, anyExternal: true},
	}
	require.Empty(t, dependencyViolations(base, rules), "the unmutated module passes")

	mutations := []struct {
		name   string
		mutate func(pkgs map[string]pkgImports, rules []layerRule) []layerRule
		want   string
	}{
		{"internal imports app", func(p map[string]pkgImports, r []layerRule) []layerRule {
			p["pcx/internal/ansi"] = pkgImports{code: []string{"pcx/app/server"}}
			return r
		}, "pcx/internal/ansi imports pcx/app/server"},
		{"a test file imports against the rule", func(p map[string]pkgImports, r []layerRule) []layerRule {
			p["pcx/domain"] = pkgImports{tests: []string{"pcx/adapters/tcp"}}
			return r
		}, "pcx/domain (test) imports pcx/adapters/tcp"},
		{"a test helper in production code", func(p map[string]pkgImports, r []layerRule) []layerRule {
			p["pcx/adapters/tcp"] = pkgImports{code: []string{"pcx/internal/natstest"}}
			return r
		}, "pcx/adapters/tcp imports pcx/internal/natstest"},
		{"a test library in production code", func(p map[string]pkgImports, r []layerRule) []layerRule {
			p["pcx/ports"] = pkgImports{code: []string{"go.uber.org/goleak"}}
			return r
		}, "pcx/ports imports go.uber.org/goleak"},
		{"a rule with neither list", func(p map[string]pkgImports, r []layerRule) []layerRule {
			r[2] = layerRule{layer: "pcx/ports"}
			return r
		}, "pcx/ports imports pcx/domain"},
		{"a package no rule covers", func(p map[string]pkgImports, r []layerRule) []layerRule {
			p["pcx/tools/gen"] = pkgImports{code: []string{"pcx/app/server"}}
			return r
		}, "pcx/tools/gen: no dependency rule covers it"},
		{"a rule that matches no package", func(p map[string]pkgImports, r []layerRule) []layerRule {
			return append(r, layerRule{layer: "pcx/adaptors"})
		}, "rule for pcx/adaptors matches no package"},
		{"a prefix that only looks like the layer", func(p map[string]pkgImports, r []layerRule) []layerRule {
			p["pcx/domainx"] = pkgImports{code: []string{"pcx/app/server"}}
			return r
		}, "pcx/domainx: no dependency rule covers it"},
		{"an outside module the layer does not allow", func(p map[string]pkgImports, r []layerRule) []layerRule {
			p["pcx/domain"] = pkgImports{code: []string{"golang.org/x/textual"}}
			return r
		}, "pcx/domain imports golang.org/x/textual"},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			pkgs := maps.Clone(base)
			got := dependencyViolations(pkgs, m.mutate(pkgs, slices.Clone(rules)))
			assert.Contains(t, strings.Join(got, "\n"), m.want)
		})
	}
}

// dependencyViolations lists every import against the rules, every package
// no rule covers and every rule that covers no package.
func dependencyViolations(pkgs map[string]pkgImports, rules []layerRule) []string {
	var out []string
	used := make(map[string]bool)
	for _, pkg := range slices.Sorted(maps.Keys(pkgs)) {
		rule, ok := ruleFor(pkg, rules)
		if !ok {
			out = append(out, fmt.Sprintf("%s: no dependency rule covers it (add one to layerRules and ARCHITECTURE.md)", pkg))
			continue
		}
		used[rule.layer] = true
		imps := pkgs[pkg]
		for _, imp := range imps.code {
			if !rule.allows(pkg, imp, false) {
				out = append(out, fmt.Sprintf("%s imports %s, against the dependency rule for %s (see ARCHITECTURE.md)", pkg, imp, rule.layer))
			}
		}
		for _, imp := range imps.tests {
			if !rule.allows(pkg, imp, true) {
				out = append(out, fmt.Sprintf("%s (test) imports %s, against the dependency rule for %s (see ARCHITECTURE.md)", pkg, imp, rule.layer))
			}
		}
	}
	for _, r := range rules {
		if !used[r.layer] {
			out = append(out, fmt.Sprintf("rule for %s matches no package: remove it or fix its path", r.layer))
		}
	}
	return out
}

// ruleFor is the most specific rule for pkg: the one with the longest layer.
func ruleFor(pkg string, rules []layerRule) (layerRule, bool) {
	var best layerRule
	found := false
	for _, r := range rules {
		covers := pkg == r.layer || !r.exact && within(pkg, r.layer)
		if covers && (!found || len(r.layer) > len(best.layer)) {
			best, found = r, true
		}
	}
	return best, found
}

func (r layerRule) allows(pkg, imp string, test bool) bool {
	switch {
	case imp == pkg, isStandard(imp):
		return true
	case within(imp, "pcx"):
		return withinAny(imp, r.pcx) || test && withinAny(imp, r.testPcx)
	default:
		return r.anyExternal || withinAny(imp, r.external) || test && withinAny(imp, testLibraries)
	}
}

// isStandard: standard library paths have no dot in their first element.
func isStandard(imp string) bool {
	return !strings.Contains(strings.Split(imp, "/")[0], ".") && !within(imp, "pcx")
}

// within reports whether imp is prefix or a package under it.
func within(imp, prefix string) bool {
	return imp == prefix || strings.HasPrefix(imp, prefix+"/")
}

func withinAny(imp string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return within(imp, p) })
}

// moduleImports maps each package of the module to its imports, found by
// parsing every Go file outside testdata and hidden folders.
func moduleImports(t *testing.T) map[string]pkgImports {
	t.Helper()
	result := map[string]pkgImports{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := path.Join("pcx", filepath.ToSlash(filepath.Dir(p)))
		imps := result[pkg]
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			if strings.HasSuffix(p, "_test.go") {
				imps.tests = append(imps.tests, imp)
			} else {
				imps.code = append(imps.code, imp)
			}
		}
		result[pkg] = imps
		return nil
	})
	require.NoError(t, err)
	return result
}
