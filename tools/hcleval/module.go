package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The parts of a module this evaluator reads.
type module struct {
	files     map[string][]byte // file name (relative to the module directory) → source
	variables []*variableDecl   // by name
	locals    []*hcl.Attribute  // by name
	resources []*resourceDecl   // managed, then data; each by type and name
	outputs   []*outputDecl     // by name
}

type variableDecl struct {
	name        string
	typ         cty.Type
	defaults    *typeexpr.Defaults
	def         cty.Value // cty.NilVal when the variable has no default
	nullable    bool
	validations []*validationDecl
	declRange   hcl.Range
}

type validationDecl struct {
	condition    hcl.Expression
	errorMessage hcl.Expression
	declRange    hcl.Range
}

type resourceDecl struct {
	mode      string // "managed" or "data"
	typ       string
	name      string
	count     hcl.Expression
	forEach   hcl.Expression
	attrs     []*hcl.Attribute // the arguments, meta-arguments left out, by name
	declRange hcl.Range
}

// address is Terraform's address of the resource (without an instance key).
func (r *resourceDecl) address() string {
	if r.mode == "data" {
		return "data." + r.typ + "." + r.name
	}
	return r.typ + "." + r.name
}

// ruleKey is how the request's "computed" map names this resource's type.
func (r *resourceDecl) ruleKey() string {
	if r.mode == "data" {
		return "data." + r.typ
	}
	return r.typ
}

type outputDecl struct {
	name      string
	value     hcl.Expression
	declRange hcl.Range
}

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "terraform"},
	{Type: "provider", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "output", LabelNames: []string{"name"}},
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "data", LabelNames: []string{"type", "name"}},
	{Type: "ephemeral", LabelNames: []string{"type", "name"}},
	{Type: "moved"},
	{Type: "import"},
	{Type: "removed"},
	{Type: "check", LabelNames: []string{"name"}},
}}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"}, {Name: "default"}, {Name: "type"}, {Name: "sensitive"},
		{Name: "nullable"}, {Name: "ephemeral"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

var outputSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"},
		{Name: "depends_on"}, {Name: "ephemeral"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "precondition"}},
}

// Meta-arguments of resource and data blocks: not attributes of the instance.
var metaArguments = map[string]bool{
	"count": true, "for_each": true, "depends_on": true, "lifecycle": true, "provider": true,
	"provisioner": true, "connection": true,
}

// loadModule parses every *.tf.json file of dir with the HCL JSON parser.
func loadModule(dir string) (*module, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Cannot read the module directory", Detail: err.Error(),
		})
	}
	m := &module{files: map[string][]byte{}}
	var bodies []hcl.Body
	for _, entry := range entries {
		name := entry.Name()
		if entry.IsDir() {
			continue
		}
		if strings.HasSuffix(name, ".tf") {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Native syntax is not supported",
				Detail:   fmt.Sprintf("%s is in HCL native syntax; this evaluator reads only *.tf.json files.", name),
			})
			continue
		}
		if !strings.HasSuffix(name, ".tf.json") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read a module file", Detail: err.Error()})
			continue
		}
		file, fileDiags := hcljson.Parse(src, name)
		diags = append(diags, fileDiags...)
		if fileDiags.HasErrors() {
			continue
		}
		m.files[name] = src
		bodies = append(bodies, file.Body)
	}
	if len(m.files) == 0 && !diags.HasErrors() {
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "No module files", Detail: fmt.Sprintf("%s has no *.tf.json file.", dir),
		})
	}
	seen := map[string]hcl.Range{}
	declare := func(kind, name string, rng hcl.Range) bool {
		key := kind + " " + name
		if prev, ok := seen[key]; ok {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate %s", kind),
				Detail:   fmt.Sprintf("%s %q was already declared at %s.", kind, name, prev),
				Subject:  rng.Ptr(),
			})
			return false
		}
		seen[key] = rng
		return true
	}
	for _, body := range bodies {
		content, contentDiags := body.Content(rootSchema)
		diags = append(diags, contentDiags...)
		for _, block := range content.Blocks {
			switch block.Type {
			case "variable":
				if v, vDiags := decodeVariable(block); v != nil {
					diags = append(diags, vDiags...)
					if declare("variable", v.name, v.declRange) {
						m.variables = append(m.variables, v)
					}
				} else {
					diags = append(diags, vDiags...)
				}
			case "locals":
				attrs, attrDiags := block.Body.JustAttributes()
				diags = append(diags, attrDiags...)
				for _, attr := range attrs {
					if declare("local value", attr.Name, attr.NameRange) {
						m.locals = append(m.locals, attr)
					}
				}
			case "resource", "data":
				mode := "managed"
				if block.Type == "data" {
					mode = "data"
				}
				r, rDiags := decodeResource(mode, block)
				diags = append(diags, rDiags...)
				if r != nil && declare(block.Type, r.typ+"."+r.name, r.declRange) {
					m.resources = append(m.resources, r)
				}
			case "output":
				content, oDiags := block.Body.Content(outputSchema)
				diags = append(diags, oDiags...)
				if attr, ok := content.Attributes["value"]; ok && declare("output", block.Labels[0], block.DefRange) {
					m.outputs = append(m.outputs, &outputDecl{name: block.Labels[0], value: attr.Expr, declRange: block.DefRange})
				}
			case "module":
				diags = diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Module calls are not supported",
					Detail:   fmt.Sprintf("module %q: this evaluator reads one module without calls to others.", block.Labels[0]),
					Subject:  block.DefRange.Ptr(),
				})
			case "ephemeral":
				diags = diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Ephemeral resources are not supported",
					Detail:   fmt.Sprintf("ephemeral %q %q is not evaluated by this evaluator.", block.Labels[0], block.Labels[1]),
					Subject:  block.DefRange.Ptr(),
				})
			}
		}
	}
	sort.Slice(m.variables, func(i, j int) bool { return m.variables[i].name < m.variables[j].name })
	sort.Slice(m.locals, func(i, j int) bool { return m.locals[i].Name < m.locals[j].Name })
	sort.Slice(m.outputs, func(i, j int) bool { return m.outputs[i].name < m.outputs[j].name })
	sort.SliceStable(m.resources, func(i, j int) bool {
		a, b := m.resources[i], m.resources[j]
		if a.mode != b.mode {
			return a.mode == "managed"
		}
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		return a.name < b.name
	})
	return m, diags
}

func decodeVariable(block *hcl.Block) (*variableDecl, hcl.Diagnostics) {
	content, diags := block.Body.Content(variableSchema)
	v := &variableDecl{name: block.Labels[0], typ: cty.DynamicPseudoType, nullable: true, declRange: block.DefRange}
	if attr, ok := content.Attributes["type"]; ok {
		ty, defaults, tyDiags := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = append(diags, tyDiags...)
		if !tyDiags.HasErrors() {
			v.typ, v.defaults = ty, defaults
		}
	}
	if attr, ok := content.Attributes["nullable"]; ok {
		val, valDiags := attr.Expr.Value(nil)
		diags = append(diags, valDiags...)
		if b, err := convert.Convert(val, cty.Bool); err == nil && b.IsKnown() && !b.IsNull() {
			v.nullable = b.True()
		} else {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid nullable value",
				Detail: "nullable must be true or false.", Subject: attr.Expr.Range().Ptr(),
			})
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		// As Terraform: the default is a constant (no references), with the type's optional
		// attribute defaults applied and converted to the type constraint.
		val, valDiags := attr.Expr.Value(nil)
		diags = append(diags, valDiags...)
		if v.defaults != nil {
			val = v.defaults.Apply(val)
		}
		converted, err := convert.Convert(val, v.typ)
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid default value for variable",
				Detail:   fmt.Sprintf("This default value is not compatible with the variable's type constraint: %s.", err),
				Subject:  attr.Expr.Range().Ptr(),
			})
			converted = cty.UnknownVal(v.typ)
		}
		v.def = converted
	}
	for _, vb := range content.Blocks {
		vc, vDiags := vb.Body.Content(validationSchema)
		diags = append(diags, vDiags...)
		cond, okCond := vc.Attributes["condition"]
		msg, okMsg := vc.Attributes["error_message"]
		if okCond && len(cond.Expr.Variables()) == 0 {
			// As Terraform: in JSON syntax a string without ${…} is a literal, not a condition.
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid validation expression",
				Detail:   "The condition expression must refer to at least one object from elsewhere in the configuration, or else its result would not be checking anything.",
				Subject:  cond.Expr.Range().Ptr(),
			})
			continue
		}
		if okCond && okMsg {
			v.validations = append(v.validations, &validationDecl{condition: cond.Expr, errorMessage: msg.Expr, declRange: vb.DefRange})
		}
	}
	return v, diags
}

func decodeResource(mode string, block *hcl.Block) (*resourceDecl, hcl.Diagnostics) {
	r := &resourceDecl{mode: mode, typ: block.Labels[0], name: block.Labels[1], declRange: block.DefRange}
	attrs, diags := block.Body.JustAttributes()
	for name, attr := range attrs {
		switch {
		case strings.HasPrefix(name, "//"):
			// A JSON comment property.
		case name == "count":
			r.count = attr.Expr
		case name == "for_each":
			r.forEach = attr.Expr
		case name == "dynamic":
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Dynamic blocks are not supported",
				Detail:   fmt.Sprintf("%s uses a dynamic block; this evaluator reads nested blocks as plain values only.", r.address()),
				Subject:  attr.NameRange.Ptr(),
			})
		case metaArguments[name]:
		default:
			r.attrs = append(r.attrs, attr)
		}
	}
	if r.count != nil && r.forEach != nil {
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  `Invalid combination of "count" and "for_each"`,
			Detail:   `The "count" and "for_each" meta-arguments are mutually-exclusive, only one should be used to be explicit about the number of resources to be created.`,
			Subject:  block.DefRange.Ptr(),
		})
	}
	sort.Slice(r.attrs, func(i, j int) bool { return r.attrs[i].Name < r.attrs[j].Name })
	return r, diags
}
