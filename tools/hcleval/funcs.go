package main

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	ctyyaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are Terraform's built-in functions under Terraform's names: go-cty's stdlib where
// it has them, HCL's try/can, go-cty-yaml's yamldecode/yamlencode (as Terraform), and small implementations of Terraform's own (length, one,
// alltrue, anytrue, sum, startswith, endswith, strcontains, replace, the hash and file
// functions). timestamp() and uuid() are unknown, as in `terraform plan`. A function not listed
// here is an error naming it ("Call to unknown function").
func functions(baseDir string) map[string]function.Function {
	return map[string]function.Function{
		// numbers
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"log": stdlib.LogFunc, "max": stdlib.MaxFunc, "min": stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc, "pow": stdlib.PowFunc, "signum": stdlib.SignumFunc,
		"sum": sumFunc,
		// strings
		"chomp": stdlib.ChompFunc, "endswith": endsWithFunc, "format": stdlib.FormatFunc,
		"formatlist": stdlib.FormatListFunc, "indent": stdlib.IndentFunc, "join": stdlib.JoinFunc,
		"lower": stdlib.LowerFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
		"replace": replaceFunc, "split": stdlib.SplitFunc, "startswith": startsWithFunc,
		"strcontains": strContainsFunc, "strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc,
		"title": stdlib.TitleFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"upper": stdlib.UpperFunc,
		// collections
		"alltrue": allTrueFunc, "anytrue": anyTrueFunc, "chunklist": stdlib.ChunklistFunc,
		"coalesce": stdlib.CoalesceFunc, "coalescelist": stdlib.CoalesceListFunc,
		"compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"index": stdlib.IndexFunc, "keys": stdlib.KeysFunc, "length": lengthFunc,
		"lookup": stdlib.LookupFunc, "merge": stdlib.MergeFunc, "one": oneFunc,
		"range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "values": stdlib.ValuesFunc,
		"zipmap": stdlib.ZipmapFunc,
		// encoding
		"base64decode": base64DecodeFunc, "base64encode": base64EncodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "urlencode": urlEncodeFunc,
		"yamldecode": ctyyaml.YAMLDecodeFunc, "yamlencode": ctyyaml.YAMLEncodeFunc,
		// hashes
		"md5": hashFunc(md5.New, hex.EncodeToString), "sha1": hashFunc(sha1.New, hex.EncodeToString),
		"sha256": hashFunc(sha256.New, hex.EncodeToString), "sha512": hashFunc(sha512.New, hex.EncodeToString),
		"base64sha256": hashFunc(sha256.New, base64.StdEncoding.EncodeToString),
		"base64sha512": hashFunc(sha512.New, base64.StdEncoding.EncodeToString),
		// dates and unique values: unknown until apply
		"formatdate": stdlib.FormatDateFunc, "timeadd": stdlib.TimeAddFunc,
		"timestamp": unknownFunc(cty.String), "uuid": unknownFunc(cty.String),
		// type conversions
		"tobool": stdlib.MakeToFunc(cty.Bool), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tostring": stdlib.MakeToFunc(cty.String), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"can": tryfunc.CanFunc, "try": tryfunc.TryFunc,
		"nonsensitive": identityFunc, "sensitive": identityFunc,
		// files, relative to the request's base_dir
		"file":             fileFunc(baseDir, func(b []byte) (cty.Value, error) { return utf8String(b) }),
		"filebase64":       fileFunc(baseDir, func(b []byte) (cty.Value, error) { return cty.StringVal(base64.StdEncoding.EncodeToString(b)), nil }),
		"filemd5":          fileFunc(baseDir, digest(md5.New, hex.EncodeToString)),
		"filesha1":         fileFunc(baseDir, digest(sha1.New, hex.EncodeToString)),
		"filesha256":       fileFunc(baseDir, digest(sha256.New, hex.EncodeToString)),
		"filesha512":       fileFunc(baseDir, digest(sha512.New, hex.EncodeToString)),
		"filebase64sha256": fileFunc(baseDir, digest(sha256.New, base64.StdEncoding.EncodeToString)),
		"filebase64sha512": fileFunc(baseDir, digest(sha512.New, base64.StdEncoding.EncodeToString)),
		"fileexists":       fileExistsFunc(baseDir),
	}
}

var lengthFunc = function.New(&function.Spec{
	Description: "The number of elements of a collection or structural value, or of characters of a string.",
	Params: []function.Parameter{{
		Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true, AllowMarked: true,
	}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		if ty == cty.String || ty == cty.DynamicPseudoType || ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType() {
			return cty.Number, nil
		}
		return cty.NilType, errors.New("argument must be a string, a collection type, or a structural type")
	},
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		ty := v.Type()
		switch {
		case ty.IsTupleType():
			return cty.NumberIntVal(int64(len(ty.TupleElementTypes()))).WithMarks(marks), nil
		case ty.IsObjectType():
			return cty.NumberIntVal(int64(len(ty.AttributeTypes()))).WithMarks(marks), nil
		case !v.IsKnown() || ty == cty.DynamicPseudoType:
			return cty.UnknownVal(cty.Number).WithMarks(marks), nil
		case v.IsNull():
			return cty.NilVal, errors.New("argument must not be null")
		case ty == cty.String:
			n, err := stdlib.Strlen(v)
			return n.WithMarks(marks), err
		default:
			return v.Length().WithMarks(marks), nil
		}
	},
})

var oneFunc = function.New(&function.Spec{
	Description: "The only element of a list, set or tuple of zero or one elements (null when empty).",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		switch {
		case ty == cty.DynamicPseudoType:
			return cty.DynamicPseudoType, nil
		case ty.IsListType() || ty.IsSetType():
			return ty.ElementType(), nil
		case ty.IsTupleType():
			switch elems := ty.TupleElementTypes(); len(elems) {
			case 0:
				return cty.DynamicPseudoType, nil
			case 1:
				return elems[0], nil
			}
		}
		return cty.NilType, errors.New("must be a list, set, or tuple value with either zero or one elements")
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		v := args[0]
		if !v.IsKnown() {
			return cty.UnknownVal(retType), nil
		}
		if v.IsNull() {
			return cty.NilVal, errors.New("argument must not be null")
		}
		switch v.LengthInt() {
		case 0:
			return cty.NullVal(retType), nil
		case 1:
			it := v.ElementIterator()
			it.Next()
			_, el := it.Element()
			return el, nil
		}
		return cty.NilVal, errors.New("must be a list, set, or tuple value with either zero or one elements")
	},
})

func boolReduce(description string, all bool) function.Function {
	return function.New(&function.Spec{
		Description: description,
		Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			result, unknown := all, false
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if !v.IsKnown() {
					unknown = true
					continue
				}
				b := !v.IsNull() && v.True()
				if all && !b {
					return cty.False, nil
				}
				if !all && b {
					return cty.True, nil
				}
			}
			if unknown {
				return cty.UnknownVal(cty.Bool), nil
			}
			return cty.BoolVal(result), nil
		},
	})
}

var allTrueFunc = boolReduce("true when every element is true (or the list is empty)", true)
var anyTrueFunc = boolReduce("true when any element is true", false)

var sumFunc = function.New(&function.Spec{
	Description: "The sum of a list or set of numbers.",
	Params:      []function.Parameter{{Name: "list", Type: cty.DynamicPseudoType}},
	Type:        function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		ty := v.Type()
		if !(ty.IsListType() || ty.IsSetType() || ty.IsTupleType()) {
			return cty.NilVal, errors.New("argument must be list, set, or tuple of numbers")
		}
		if v.LengthInt() == 0 {
			return cty.NilVal, errors.New("cannot sum an empty list")
		}
		total := cty.Zero
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			if !el.IsKnown() {
				return cty.UnknownVal(cty.Number), nil
			}
			if el.IsNull() || el.Type() != cty.Number {
				return cty.NilVal, errors.New("argument must be list, set, or tuple of numbers")
			}
			total = total.Add(el)
		}
		return total, nil
	},
})

func stringPredicate(description string, test func(s, part string) bool) function.Function {
	return function.New(&function.Spec{
		Description: description,
		Params:      []function.Parameter{{Name: "str", Type: cty.String}, {Name: "part", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var startsWithFunc = stringPredicate("whether str begins with part", strings.HasPrefix)
var endsWithFunc = stringPredicate("whether str ends with part", strings.HasSuffix)
var strContainsFunc = stringPredicate("whether str contains part", strings.Contains)

// replaceFunc is Terraform's replace: a substring, or a regular expression when the search
// string is wrapped in slashes (with $1-style references in the replacement).
var replaceFunc = function.New(&function.Spec{
	Description: "Replaces every occurrence of substr (or /regex/) in str.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String}, {Name: "substr", Type: cty.String}, {Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		str, substr, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		if len(substr) > 1 && strings.HasPrefix(substr, "/") && strings.HasSuffix(substr, "/") {
			re, err := regexp.Compile(substr[1 : len(substr)-1])
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(re.ReplaceAllString(str, repl)), nil
		}
		return cty.StringVal(strings.ReplaceAll(str, substr, repl)), nil
	},
})

func hashFunc(h func() hash.Hash, encode func([]byte) string) function.Function {
	return function.New(&function.Spec{
		Description: "A hash of the UTF-8 bytes of the string.",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			d := h()
			d.Write([]byte(args[0].AsString()))
			return cty.StringVal(encode(d.Sum(nil))), nil
		},
	})
}

var base64EncodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
	},
})

var base64DecodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.NilVal, fmt.Errorf("failed to decode base64 data: %w", err)
		}
		return utf8String(b)
	},
})

var urlEncodeFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "str", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(url.QueryEscape(args[0].AsString())), nil
	},
})

func unknownFunc(ty cty.Type) function.Function {
	return function.New(&function.Spec{
		Description: "Known only after apply.",
		Type:        function.StaticReturnType(ty),
		Impl: func(_ []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.UnknownVal(ty), nil
		},
	})
}

var identityFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true, AllowNull: true, AllowMarked: true}},
	Type:   func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl:   func(args []cty.Value, _ cty.Type) (cty.Value, error) { return args[0], nil },
})

func utf8String(b []byte) (cty.Value, error) {
	if !utf8.Valid(b) {
		return cty.NilVal, errors.New("contents are not valid UTF-8")
	}
	return cty.StringVal(string(b)), nil
}

func digest(h func() hash.Hash, encode func([]byte) string) func([]byte) (cty.Value, error) {
	return func(b []byte) (cty.Value, error) {
		d := h()
		d.Write(b)
		return cty.StringVal(encode(d.Sum(nil))), nil
	}
}

func resolve(baseDir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(baseDir, path)
}

func fileFunc(baseDir string, read func([]byte) (cty.Value, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := os.ReadFile(resolve(baseDir, args[0].AsString()))
			if err != nil {
				return cty.NilVal, fmt.Errorf("no file at %s: %w", args[0].AsString(), err)
			}
			return read(b)
		},
	})
}

func fileExistsFunc(baseDir string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			info, err := os.Stat(resolve(baseDir, args[0].AsString()))
			if err != nil {
				if os.IsNotExist(err) {
					return cty.False, nil
				}
				return cty.NilVal, err
			}
			if !info.Mode().IsRegular() {
				return cty.NilVal, fmt.Errorf("%s is not a regular file", args[0].AsString())
			}
			return cty.True, nil
		},
	})
}
