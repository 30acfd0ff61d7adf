// Command hcleval evaluates a Terraform module written in JSON syntax (*.tf.json) the way
// `terraform plan` would for its root module, without providers: variables (types, optional
// attributes with defaults, validations), locals, every resource and data source instance
// (count, for_each) and outputs. Attributes that only a provider would know come from the
// caller's "computed" rules (HCL expressions over the instance's own arguments); anything else
// is unknown, like plan's "known after apply", and is written as {"$unknown": true}.
//
// It reads one JSON request on stdin and writes one JSON response on stdout:
//
//	request:  {"dir", "variables", "path_module", "context", "computed"}
//	response: {"variables", "locals", "resources", "data", "outputs", "diagnostics", "iterations"}
//
// The exit status is 0 when a response was written (diagnostics included) and 2 when the
// request itself could not be read. `hcleval --source-hash` prints the hash of the sources it
// was built from (scripts/hcleval rebuilds a binary whose hash is stale).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// sourceHash is set at build time (-ldflags "-X main.sourceHash=...") by scripts/hcleval.
var sourceHash = "dev"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "--source-hash":
			fmt.Println(sourceHash)
			return
		default:
			fmt.Fprintf(os.Stderr, "hcleval: unknown argument %q (the request is read from stdin)\n", os.Args[1])
			os.Exit(2)
		}
	}
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(fmt.Sprintf("reading the request: %s", err))
	}
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		fail(fmt.Sprintf("the request is not valid JSON: %s", err))
	}
	if req.Dir == "" {
		fail(`the request has no "dir" (the module directory)`)
	}
	resp := evaluate(&req)
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(resp); err != nil {
		fmt.Fprintf(os.Stderr, "hcleval: writing the response: %s\n", err)
		os.Exit(1)
	}
}

func fail(message string) {
	fmt.Fprintf(os.Stderr, "hcleval: %s\n", message)
	os.Exit(2)
}
