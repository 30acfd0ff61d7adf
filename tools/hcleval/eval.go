package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

type request struct {
	// Dir is the module directory (every *.tf.json file in it is read).
	Dir string `json:"dir"`
	// Variables are the input variables, as JSON values.
	Variables map[string]json.RawMessage `json:"variables"`
	// PathModule is the value of path.module (default ".").
	PathModule string `json:"path_module"`
	// BaseDir is where the file functions resolve relative paths (default Dir).
	BaseDir string `json:"base_dir"`
	// Context is an object available as `context` in the computed rules (account, region, ...).
	Context json.RawMessage `json:"context"`
	// Computed holds, per resource type ("aws_s3_bucket") or data source type
	// ("data.aws_region"), HCL expressions for the attributes a provider would compute. They
	// see `self` (the instance's arguments and computed attributes), `context`, `address`
	// and `resource` ({type, name, key}) besides everything a module expression sees.
	Computed map[string]map[string]string `json:"computed"`
	// MaxIterations bounds the fixpoint iteration (default: the number of locals, resources
	// and data sources, plus 2).
	MaxIterations int `json:"max_iterations"`
}

type response struct {
	Variables   map[string]any                     `json:"variables"`
	Locals      map[string]any                     `json:"locals"`
	Resources   map[string]map[string]*resourceOut `json:"resources"`
	Data        map[string]map[string]*resourceOut `json:"data"`
	Outputs     map[string]any                     `json:"outputs"`
	Diagnostics []*diagnostic                      `json:"diagnostics"`
	Iterations  int                                `json:"iterations"`
}

type resourceOut struct {
	// Mode is "single" (no count or for_each), "count" or "for_each".
	Mode      string         `json:"mode"`
	Instances []*instanceOut `json:"instances"`
}

type instanceOut struct {
	Address    string `json:"address"`
	Key        any    `json:"key"`
	Attributes any    `json:"attributes"`
}

type diagnostic struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *diagRange `json:"range,omitempty"`
	// Address names what was being evaluated: var.x, local.x, aws_x.y[0], output.x, ...
	Address string `json:"address,omitempty"`
}

type diagRange struct {
	Filename string  `json:"filename"`
	Start    diagPos `json:"start"`
	End      diagPos `json:"end"`
}

type diagPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// instance is one evaluated resource instance.
type instance struct {
	address  string
	key      cty.Value // cty.NilVal for a single instance
	args     map[string]cty.Value
	computed map[string]cty.Value
	value    cty.Value // args ∪ computed ∪ referenced-but-unknown attributes
	// ruleSelf is the `self` the computed rules saw, ruleDiags what they reported: rules see
	// nothing else (parseComputed checks it), so the same self gives the same results.
	ruleSelf  cty.Value
	ruleDiags []*diagnostic
}

// resourceState is one resource block's evaluation in one iteration.
type resourceState struct {
	mode      string // single, count, for_each
	value     cty.Value
	instances []*instance
	// unknownRepetition is set when count or for_each is not known.
	unknownRepetition bool
}

type evaluator struct {
	req        *request
	mod        *module
	funcs      map[string]function.Function
	context    cty.Value
	computed   map[string]map[string]hcl.Expression // rule key → attribute → expression
	referenced map[string]map[string]bool           // rule key → attributes the module reads
	managed    map[string]bool                      // managed resource types in the module

	vars      map[string]cty.Value
	locals    map[string]cty.Value
	resources map[string]*resourceState // by address
	diags     []*diagnostic
}

func evaluate(req *request) *response {
	resp := &response{
		Variables: map[string]any{}, Locals: map[string]any{}, Outputs: map[string]any{},
		Resources: map[string]map[string]*resourceOut{}, Data: map[string]map[string]*resourceOut{},
		Diagnostics: []*diagnostic{},
	}
	e := &evaluator{req: req, resources: map[string]*resourceState{}}
	defer func() { resp.Diagnostics = dedupe(e.diags) }()

	if req.PathModule == "" {
		req.PathModule = "."
	}
	if req.BaseDir == "" {
		req.BaseDir = req.Dir
	}
	e.funcs = functions(req.BaseDir)
	e.context = cty.EmptyObjectVal
	if len(req.Context) > 0 {
		v, err := fromJSON(req.Context)
		if err != nil {
			e.addError("Invalid request", fmt.Sprintf("context: %s", err), "")
			return resp
		}
		e.context = v
	}
	mod, diags := loadModule(req.Dir)
	e.add(diags, "")
	if mod == nil || diags.HasErrors() {
		return resp
	}
	e.mod = mod
	e.managed = map[string]bool{}
	for _, r := range mod.resources {
		if r.mode == "managed" {
			e.managed[r.typ] = true
		}
	}
	if !e.parseComputed() {
		return resp
	}
	e.referenced = referencedAttributes(mod, e.managed)

	ok := e.evaluateVariables()
	for name, v := range e.vars {
		resp.Variables[name] = toJSON(v)
	}
	if !ok {
		return resp
	}
	resp.Iterations = e.fixpoint()
	for name, v := range e.locals {
		resp.Locals[name] = toJSON(v)
	}
	for _, r := range mod.resources {
		state := e.resources[r.address()]
		if state.unknownRepetition {
			summary, what := "Invalid count argument", `"count"`
			if r.forEach != nil {
				summary, what = "Invalid for_each argument", `"for_each"`
			}
			e.diags = append(e.diags, toDiagnostic(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  summary,
				Detail:   fmt.Sprintf("The %s value depends on values that cannot be determined until apply, so the number of instances of %s cannot be predicted.", what, r.address()),
				Subject:  r.declRange.Ptr(),
			}, r.address()))
		}
		out := &resourceOut{Mode: state.mode, Instances: []*instanceOut{}}
		for _, inst := range state.instances {
			var key any
			if inst.key != cty.NilVal {
				key = toJSON(inst.key)
			}
			out.Instances = append(out.Instances, &instanceOut{Address: inst.address, Key: key, Attributes: toJSON(inst.value)})
		}
		target := resp.Resources
		if r.mode == "data" {
			target = resp.Data
		}
		if target[r.typ] == nil {
			target[r.typ] = map[string]*resourceOut{}
		}
		target[r.typ][r.name] = out
	}
	ctx := e.evalContext()
	for _, o := range mod.outputs {
		v, diags := o.value.Value(ctx)
		e.add(diags, "output."+o.name)
		resp.Outputs[o.name] = toJSON(v)
	}
	return resp
}

var ruleRoots = map[string]bool{"self": true, "context": true, "address": true, "resource": true}

// parseComputed parses the request's computed rules (HCL native syntax).
func (e *evaluator) parseComputed() bool {
	e.computed = map[string]map[string]hcl.Expression{}
	ok := true
	for key, attrs := range e.req.Computed {
		e.computed[key] = map[string]hcl.Expression{}
		for attr, src := range attrs {
			expr, diags := hclsyntax.ParseExpression([]byte(src), fmt.Sprintf("computed[%s.%s]", key, attr), hcl.InitialPos)
			e.add(diags, "")
			if diags.HasErrors() {
				ok = false
				continue
			}
			for _, t := range expr.Variables() {
				if root := t.RootName(); !ruleRoots[root] {
					e.addErrorAt("Invalid computed rule",
						fmt.Sprintf("A computed rule may refer only to self, context, address and resource, not to %q.", root),
						t.SourceRange(), "")
					ok = false
				}
			}
			e.computed[key][attr] = expr
		}
	}
	return ok
}

// evaluateVariables sets every input variable as Terraform does before planning: the given
// value (or the default), optional attribute defaults applied, converted to the type
// constraint, then each validation rule checked. It returns false when a variable is wrong.
func (e *evaluator) evaluateVariables() bool {
	e.vars = map[string]cty.Value{}
	ok := true
	declared := map[string]*variableDecl{}
	for _, v := range e.mod.variables {
		declared[v.name] = v
	}
	names := make([]string, 0, len(e.req.Variables))
	for name := range e.req.Variables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if declared[name] == nil {
			e.addError("Value for undeclared variable",
				fmt.Sprintf("A variable named %q was assigned, but the module does not declare a variable of that name.", name), "var."+name)
			ok = false
		}
	}
	for _, v := range e.mod.variables {
		address := "var." + v.name
		raw, given := e.req.Variables[v.name]
		var val cty.Value
		if given {
			parsed, err := fromJSON(raw)
			if err != nil {
				e.addErrorAt("Invalid value for input variable", fmt.Sprintf("The value of var.%s is not valid JSON: %s.", v.name, err), v.declRange, address)
				ok = false
				e.vars[v.name] = cty.UnknownVal(v.typ)
				continue
			}
			val = parsed
			if val.IsNull() && !v.nullable && v.def != cty.NilVal {
				val = v.def
			} else {
				if v.defaults != nil {
					val = v.defaults.Apply(val)
				}
				converted, err := convert.Convert(val, v.typ)
				if err != nil {
					e.addErrorAt("Invalid value for input variable",
						fmt.Sprintf("The given value is not suitable for var.%s declared at %s: %s.", v.name, v.declRange, convertError(err)), v.declRange, address)
					ok = false
					e.vars[v.name] = cty.UnknownVal(v.typ)
					continue
				}
				val = converted
			}
		} else if v.def != cty.NilVal {
			val = v.def
		} else {
			e.addErrorAt("No value for required variable",
				fmt.Sprintf("The module input variable %q is not set, and has no default value.", v.name), v.declRange, address)
			ok = false
			e.vars[v.name] = cty.UnknownVal(v.typ)
			continue
		}
		if val.IsNull() && !v.nullable {
			e.addErrorAt("Required variable not set", fmt.Sprintf("Unsuitable value for var.%s: the value must not be null.", v.name), v.declRange, address)
			ok = false
		}
		e.vars[v.name] = val
	}
	if !ok {
		return false
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(e.vars)},
		Functions: e.funcs,
	}
	for _, v := range e.mod.variables {
		for _, rule := range v.validations {
			if !e.checkValidation(v, rule, ctx) {
				ok = false
			}
		}
	}
	return ok
}

// checkValidation evaluates one validation block as Terraform does.
func (e *evaluator) checkValidation(v *variableDecl, rule *validationDecl, ctx *hcl.EvalContext) bool {
	address := "var." + v.name
	result, diags := rule.condition.Value(ctx)
	e.add(diags, address)
	if diags.HasErrors() {
		return false
	}
	if !result.IsKnown() {
		return true // Terraform checks it again once the value is known.
	}
	result, _ = result.Unmark()
	if result.IsNull() {
		e.addErrorAt("Invalid variable validation result", "Validation condition expression must return either true or false, not null.", rule.condition.Range(), address)
		return false
	}
	b, err := convert.Convert(result, cty.Bool)
	if err != nil {
		e.addErrorAt("Invalid variable validation result", fmt.Sprintf("Invalid validation condition result value: %s.", err), rule.condition.Range(), address)
		return false
	}
	if b.True() {
		return true
	}
	message := "Invalid value for variable."
	msgVal, msgDiags := rule.errorMessage.Value(ctx)
	if !msgDiags.HasErrors() && msgVal.IsKnown() && !msgVal.IsNull() {
		if s, err := convert.Convert(msgVal, cty.String); err == nil {
			s, _ = s.Unmark()
			message = s.AsString()
		}
	} else {
		e.add(msgDiags, address)
	}
	e.diags = append(e.diags, toDiagnostic(&hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail:   fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s.", message, rule.declRange.String()),
		Subject:  v.declRange.Ptr(),
	}, address))
	return false
}

// fixpoint evaluates locals, resources and data sources again and again, each time from the
// previous round's values (unknown at first), until nothing changes. It returns the number of
// rounds. Only the last round's diagnostics are kept: earlier ones saw values not yet known.
func (e *evaluator) fixpoint() int {
	e.locals = map[string]cty.Value{}
	for _, l := range e.mod.locals {
		e.locals[l.Name] = cty.DynamicVal
	}
	for _, r := range e.mod.resources {
		e.resources[r.address()] = &resourceState{mode: repetitionMode(r), value: cty.DynamicVal}
	}
	limit := e.req.MaxIterations
	if limit <= 0 {
		limit = len(e.mod.locals) + len(e.mod.resources) + 2
	}
	base := len(e.diags)
	for round := 1; ; round++ {
		e.diags = e.diags[:base]
		ctx := e.evalContext()
		locals := map[string]cty.Value{}
		for _, l := range e.mod.locals {
			v, diags := l.Expr.Value(ctx)
			e.add(diags, "local."+l.Name)
			locals[l.Name] = v
		}
		resources := map[string]*resourceState{}
		for _, r := range e.mod.resources {
			resources[r.address()] = e.evaluateResource(r, ctx)
		}
		changed := []string{}
		for name, v := range locals {
			if !v.RawEquals(e.locals[name]) {
				changed = append(changed, "local."+name)
			}
		}
		for address, state := range resources {
			if !state.value.RawEquals(e.resources[address].value) {
				changed = append(changed, address)
			}
		}
		e.locals, e.resources = locals, resources
		if len(changed) == 0 {
			return round
		}
		if round >= limit {
			sort.Strings(changed)
			if len(changed) > 10 {
				changed = append(changed[:10], "…")
			}
			e.addError("Evaluation did not converge",
				fmt.Sprintf("Values still changed after %d rounds: %s.", round, strings.Join(changed, ", ")), "")
			return round
		}
	}
}

func repetitionMode(r *resourceDecl) string {
	switch {
	case r.count != nil:
		return "count"
	case r.forEach != nil:
		return "for_each"
	default:
		return "single"
	}
}

// evalContext is what module expressions see: var, local, path, terraform, data and every
// managed resource type, from the current values.
func (e *evaluator) evalContext() *hcl.EvalContext {
	vars := map[string]cty.Value{
		"var":   cty.ObjectVal(e.vars),
		"local": cty.ObjectVal(e.locals),
		"path": cty.ObjectVal(map[string]cty.Value{
			"module": cty.StringVal(e.req.PathModule),
			"root":   cty.StringVal("."),
			"cwd":    cty.StringVal(absolute(e.req.BaseDir)),
		}),
		"terraform": cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")}),
	}
	managed := map[string]map[string]cty.Value{}
	data := map[string]map[string]cty.Value{}
	for _, r := range e.mod.resources {
		target := managed
		if r.mode == "data" {
			target = data
		}
		if target[r.typ] == nil {
			target[r.typ] = map[string]cty.Value{}
		}
		target[r.typ][r.name] = e.resources[r.address()].value
	}
	for typ, names := range managed {
		vars[typ] = cty.ObjectVal(names)
	}
	dataTypes := map[string]cty.Value{}
	for typ, names := range data {
		dataTypes[typ] = cty.ObjectVal(names)
	}
	vars["data"] = cty.ObjectVal(dataTypes)
	return &hcl.EvalContext{Variables: vars, Functions: e.funcs}
}

// evaluateResource evaluates every instance of one resource or data block.
func (e *evaluator) evaluateResource(r *resourceDecl, ctx *hcl.EvalContext) *resourceState {
	state := &resourceState{mode: repetitionMode(r)}
	address := r.address()
	previous := e.resources[address]
	switch state.mode {
	case "single":
		inst := e.evaluateInstance(r, ctx, address, cty.NilVal, previous)
		state.instances = []*instance{inst}
		state.value = inst.value
	case "count":
		v, diags := r.count.Value(ctx)
		e.add(diags, address)
		if diags.HasErrors() {
			state.value = cty.DynamicVal
			return state
		}
		v, _ = v.Unmark()
		if !v.IsKnown() {
			state.value, state.unknownRepetition = cty.DynamicVal, true
			return state
		}
		n, err := convert.Convert(v, cty.Number)
		count, acc := 0, big.Accuracy(0)
		if err == nil && !n.IsNull() {
			var i64 int64
			i64, acc = n.AsBigFloat().Int64()
			count = int(i64)
		}
		if err != nil || n.IsNull() || acc != big.Exact || count < 0 {
			e.addErrorAt("Invalid count argument", `The given "count" argument value is unsuitable: must be a whole number, greater than or equal to zero.`, r.count.Range(), address)
			state.value = cty.DynamicVal
			return state
		}
		values := []cty.Value{}
		for i := 0; i < count; i++ {
			key := cty.NumberIntVal(int64(i))
			instCtx := ctx.NewChild()
			instCtx.Variables = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": key})}
			inst := e.evaluateInstance(r, instCtx, fmt.Sprintf("%s[%d]", address, i), key, previous)
			state.instances = append(state.instances, inst)
			values = append(values, inst.value)
		}
		state.value = cty.TupleVal(values)
	case "for_each":
		v, diags := r.forEach.Value(ctx)
		e.add(diags, address)
		if diags.HasErrors() {
			state.value = cty.DynamicVal
			return state
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() {
			state.value, state.unknownRepetition = cty.DynamicVal, true
			return state
		}
		items := map[string]cty.Value{}
		ty := v.Type()
		switch {
		case v.IsNull():
			e.addErrorAt("Invalid for_each argument", "The given \"for_each\" argument value is unsuitable: the given \"for_each\" argument value is null. A map, or set of strings is allowed.", r.forEach.Range(), address)
			state.value = cty.DynamicVal
			return state
		case ty.IsMapType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				k, val := it.Element()
				items[k.AsString()] = val
			}
		case ty.IsSetType() && ty.ElementType() == cty.String:
			for it := v.ElementIterator(); it.Next(); {
				_, val := it.Element()
				if val.IsNull() {
					e.addErrorAt("Invalid for_each set argument", "Sets used in for_each must not contain null values.", r.forEach.Range(), address)
					state.value = cty.DynamicVal
					return state
				}
				items[val.AsString()] = val
			}
		default:
			e.addErrorAt("Invalid for_each argument", fmt.Sprintf("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type %s.", ty.FriendlyName()), r.forEach.Range(), address)
			state.value = cty.DynamicVal
			return state
		}
		keys := make([]string, 0, len(items))
		for k := range items {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		values := map[string]cty.Value{}
		for _, k := range keys {
			key := cty.StringVal(k)
			instCtx := ctx.NewChild()
			instCtx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": key, "value": items[k]})}
			inst := e.evaluateInstance(r, instCtx, fmt.Sprintf("%s[%q]", address, k), key, previous)
			state.instances = append(state.instances, inst)
			values[k] = inst.value
		}
		state.value = cty.ObjectVal(values)
	}
	return state
}

// ruleFunctions are the functions only computed rules have: unknown() is a value known only
// after apply (e.g. a bucket name when neither bucket nor bucket_prefix is set).
var ruleFunctions = map[string]function.Function{"unknown": unknownFunc(cty.DynamicPseudoType)}

// evaluateInstance evaluates the arguments of one instance, then its computed attributes with
// `self` = its arguments and the previous round's computed attributes.
func (e *evaluator) evaluateInstance(r *resourceDecl, ctx *hcl.EvalContext, address string, key cty.Value, previous *resourceState) *instance {
	inst := &instance{address: address, key: key, args: map[string]cty.Value{}, computed: map[string]cty.Value{}}
	for _, attr := range r.attrs {
		v, diags := attr.Expr.Value(ctx)
		e.add(diags, address)
		inst.args[attr.Name] = v
	}
	var before map[string]cty.Value
	var last *instance
	if previous != nil {
		for _, p := range previous.instances {
			if p.address == address {
				before, last = p.computed, p
			}
		}
	}
	rules := e.computed[r.ruleKey()]
	if len(rules) > 0 {
		self := map[string]cty.Value{}
		for k, v := range before {
			self[k] = v
		}
		for k, v := range inst.args {
			if !v.IsNull() || self[k] == cty.NilVal {
				self[k] = v
			}
		}
		for name := range rules {
			if _, ok := self[name]; !ok {
				self[name] = cty.DynamicVal
			}
		}
		selfVal := cty.ObjectVal(self)
		if last != nil && last.ruleSelf != cty.NilVal && last.ruleSelf.RawEquals(selfVal) {
			inst.computed, inst.ruleSelf, inst.ruleDiags = last.computed, last.ruleSelf, last.ruleDiags
			e.diags = append(e.diags, last.ruleDiags...)
			rules = nil
		}
		inst.ruleSelf = selfVal
		mark := len(e.diags)
		resourceKey := key
		if resourceKey == cty.NilVal {
			resourceKey = cty.NullVal(cty.DynamicPseudoType)
		}
		ruleCtx := ctx.NewChild()
		ruleCtx.Functions = ruleFunctions
		ruleCtx.Variables = map[string]cty.Value{
			"self":    cty.ObjectVal(self),
			"context": e.context,
			"address": cty.StringVal(address),
			"resource": cty.ObjectVal(map[string]cty.Value{
				"type": cty.StringVal(r.typ), "name": cty.StringVal(r.name), "key": resourceKey,
			}),
		}
		names := make([]string, 0, len(rules))
		for name := range rules {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if arg, ok := inst.args[name]; ok && !arg.IsNull() {
				continue // an argument the configuration sets wins over the computed value
			}
			// The rule of X sees self.X as the configuration left it (null): not its own last value.
			own := map[string]cty.Value{}
			for k, v := range self {
				own[k] = v
			}
			own[name] = cty.NullVal(cty.DynamicPseudoType)
			ruleCtx.Variables["self"] = cty.ObjectVal(own)
			v, diags := rules[name].Value(ruleCtx)
			e.add(diags, address+"."+name)
			if diags.HasErrors() {
				v = cty.DynamicVal
			}
			inst.computed[name] = v
		}
		if rules != nil {
			inst.ruleDiags = append([]*diagnostic(nil), e.diags[mark:]...)
		}
	}
	attrs := map[string]cty.Value{}
	for k, v := range inst.args {
		attrs[k] = v
	}
	for k, v := range inst.computed {
		attrs[k] = v
	}
	for name := range e.referenced[r.ruleKey()] {
		if _, ok := attrs[name]; !ok {
			attrs[name] = cty.DynamicVal // known only after apply
		}
	}
	inst.value = cty.ObjectVal(attrs)
	return inst
}

func (e *evaluator) add(diags hcl.Diagnostics, address string) {
	for _, d := range diags {
		e.diags = append(e.diags, toDiagnostic(d, address))
	}
}

func (e *evaluator) addError(summary, detail, address string) {
	e.diags = append(e.diags, &diagnostic{Severity: "error", Summary: summary, Detail: detail, Address: address})
}

func (e *evaluator) addErrorAt(summary, detail string, rng hcl.Range, address string) {
	e.diags = append(e.diags, toDiagnostic(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}, address))
}

func toDiagnostic(d *hcl.Diagnostic, address string) *diagnostic {
	out := &diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail, Address: address}
	if d.Severity == hcl.DiagWarning {
		out.Severity = "warning"
	}
	if d.Subject != nil {
		out.Range = &diagRange{
			Filename: d.Subject.Filename,
			Start:    diagPos{Line: d.Subject.Start.Line, Column: d.Subject.Start.Column, Byte: d.Subject.Start.Byte},
			End:      diagPos{Line: d.Subject.End.Line, Column: d.Subject.End.Column, Byte: d.Subject.End.Byte},
		}
	}
	return out
}

func dedupe(diags []*diagnostic) []*diagnostic {
	seen := map[string]bool{}
	out := []*diagnostic{}
	for _, d := range diags {
		b, _ := json.Marshal(d)
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, d)
		}
	}
	return out
}

func convertError(err error) string {
	if pathErr, ok := err.(cty.PathError); ok && len(pathErr.Path) > 0 {
		return fmt.Sprintf("%s: %s", formatPath(pathErr.Path), pathErr.Error())
	}
	return err.Error()
}

func formatPath(path cty.Path) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			fmt.Fprintf(&b, ".%s", s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return strings.TrimPrefix(b.String(), ".")
}

func absolute(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// fromJSON reads a JSON value with the cty type it implies.
func fromJSON(raw json.RawMessage) (cty.Value, error) {
	ty, err := ctyjson.ImpliedType(raw)
	if err != nil {
		return cty.NilVal, err
	}
	return ctyjson.Unmarshal(raw, ty)
}

// unknownMarker stands for a value known only after apply.
var unknownMarker = map[string]any{"$unknown": true}

// toJSON converts a value for the response; unknown values become unknownMarker.
func toJSON(v cty.Value) any {
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() {
		return unknownMarker
	}
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		b, err := ctyjson.Marshal(v, cty.Number)
		if err != nil {
			return v.AsBigFloat().Text('g', -1)
		}
		return json.RawMessage(b)
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		out := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			out = append(out, toJSON(el))
		}
		return out
	case ty.IsMapType() || ty.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, el := it.Element()
			out[k.AsString()] = toJSON(el)
		}
		return out
	default:
		return unknownMarker
	}
}
