package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// referencedAttributes finds, per resource type ("aws_x") and data source type ("data.aws_x"),
// the attribute names the module's expressions read from its instances: `aws_x.n.attr`,
// `aws_x.n[0].attr`, `aws_x.n[*].attr`, `aws_x.n[expr].attr`. An instance lacking such an
// attribute (neither an argument nor computed) gets it as an unknown value, as `terraform plan`
// shows attributes only the provider knows.
func referencedAttributes(m *module, managed map[string]bool) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	record := func(key, attr string) {
		if out[key] == nil {
			out[key] = map[string]bool{}
		}
		out[key][attr] = true
	}
	// resourceOf names the resource a traversal of exactly [type, name] or [data, type, name] is.
	resourceOf := func(t hcl.Traversal) (string, bool) {
		root := t.RootName()
		if root == "data" && len(t) == 3 {
			if typ, ok := t[1].(hcl.TraverseAttr); ok {
				return "data." + typ.Name, true
			}
		}
		if managed[root] && len(t) == 2 {
			return root, true
		}
		return "", false
	}
	firstAttr := func(steps hcl.Traversal) (string, bool) {
		if len(steps) == 0 {
			return "", false
		}
		if a, ok := steps[0].(hcl.TraverseAttr); ok {
			return a.Name, true
		}
		return "", false
	}
	visit := func(node hclsyntax.Node) hcl.Diagnostics {
		switch n := node.(type) {
		case *hclsyntax.ScopeTraversalExpr:
			t := n.Traversal
			prefix := 2
			if t.RootName() == "data" {
				prefix = 3
			}
			if len(t) <= prefix {
				return nil
			}
			key, ok := resourceOf(t[:prefix])
			if !ok {
				return nil
			}
			rest := t[prefix:]
			if _, isIndex := rest[0].(hcl.TraverseIndex); isIndex {
				rest = rest[1:]
			}
			if attr, ok := firstAttr(rest); ok {
				record(key, attr)
			}
		case *hclsyntax.SplatExpr:
			src, ok := n.Source.(*hclsyntax.ScopeTraversalExpr)
			if !ok {
				return nil
			}
			key, ok := resourceOf(src.Traversal)
			if !ok {
				return nil
			}
			if each, ok := n.Each.(*hclsyntax.RelativeTraversalExpr); ok {
				if attr, ok := firstAttr(each.Traversal); ok {
					record(key, attr)
				}
			}
		case *hclsyntax.RelativeTraversalExpr:
			index, ok := n.Source.(*hclsyntax.IndexExpr)
			if !ok {
				return nil
			}
			src, ok := index.Collection.(*hclsyntax.ScopeTraversalExpr)
			if !ok {
				return nil
			}
			if key, ok := resourceOf(src.Traversal); ok {
				if attr, ok := firstAttr(n.Traversal); ok {
					record(key, attr)
				}
			}
		}
		return nil
	}
	for _, src := range m.files {
		for _, s := range jsonStrings(src) {
			if !strings.Contains(s, "${") && !strings.Contains(s, "%{") {
				continue
			}
			expr, diags := hclsyntax.ParseTemplate([]byte(s), "", hcl.InitialPos)
			if diags.HasErrors() {
				continue // reported where the string is evaluated
			}
			_ = hclsyntax.VisitAll(expr, visit)
		}
	}
	return out
}

// jsonStrings lists every string (object keys included) of a JSON document.
func jsonStrings(src []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(src))
	var out []string
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return out
		}
		if s, ok := tok.(string); ok {
			out = append(out, s)
		}
	}
}
