package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run evaluates a module made of the given *.tf.json files.
func run(t *testing.T, files map[string]string, variables map[string]any, computed map[string]map[string]string) map[string]any {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]json.RawMessage{}
	for k, v := range variables {
		b, _ := json.Marshal(v)
		vars[k] = b
	}
	resp := evaluate(&request{Dir: dir, Variables: vars, Context: json.RawMessage(`{"account":"111122223333"}`), Computed: computed})
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func diagnostics(out map[string]any) string {
	b, _ := json.Marshal(out["diagnostics"])
	return string(b)
}

const resources = `{
  "variable": {
    "owner": {"type": "object({ name = string, team = optional(string, \"ci\") })"},
    "prefix": {"type": "string", "default": "app", "validation": [
      {"condition": "${can(regex(\"^[a-z]+$\", var.prefix))}", "error_message": "prefix must be lowercase letters."}
    ]}
  },
  "output": {
    "queue_arn": {"value": "${aws_queue.q.arn}"},
    "workers": {"value": "${aws_worker.w[*].queue}"},
    "opaque": {"value": "${aws_worker.w[0].id}"},
    "team": {"value": "${var.owner.team}"}
  },
  "resource": {
    "aws_worker": {"w": {"count": 2, "name": "${local.base}-${count.index}", "queue": "${aws_queue.q.arn}"}},
    "aws_queue": {"q": {"name": "${local.base}-queue", "lifecycle": {"prevent_destroy": true}}}
  },
  "locals": {"base": "${var.prefix}-${var.owner.name}"}
}`

func TestReferencesInAnyOrderUnknownsAndOptionalDefaults(t *testing.T) {
	out := run(t, map[string]string{"main.tf.json": resources}, map[string]any{"owner": map[string]any{"name": "ana"}},
		map[string]map[string]string{"aws_queue": {"arn": `"arn:q:${context.account}:${self.name}"`}})
	if d := diagnostics(out); d != "[]" {
		t.Fatalf("diagnostics: %s", d)
	}
	outputs := out["outputs"].(map[string]any)
	if outputs["queue_arn"] != "arn:q:111122223333:app-ana-queue" {
		t.Errorf("queue_arn = %v", outputs["queue_arn"])
	}
	if w := outputs["workers"].([]any); len(w) != 2 || w[1] != "arn:q:111122223333:app-ana-queue" {
		t.Errorf("workers = %v", w)
	}
	if u, ok := outputs["opaque"].(map[string]any); !ok || u["$unknown"] != true {
		t.Errorf("opaque = %v, want the unknown marker", outputs["opaque"])
	}
	if outputs["team"] != "ci" {
		t.Errorf("team = %v, want the optional attribute's default", outputs["team"])
	}
	queue := out["resources"].(map[string]any)["aws_queue"].(map[string]any)["q"].(map[string]any)
	attrs := queue["instances"].([]any)[0].(map[string]any)["attributes"].(map[string]any)
	if _, ok := attrs["lifecycle"]; ok {
		t.Errorf("lifecycle is a meta-argument, not an attribute: %v", attrs)
	}
}

func TestValidationFailureAsTerraformReportsIt(t *testing.T) {
	out := run(t, map[string]string{"main.tf.json": resources}, map[string]any{"owner": map[string]any{"name": "ana"}, "prefix": "X"}, nil)
	d := diagnostics(out)
	for _, want := range []string{`"summary":"Invalid value for variable"`, `prefix must be lowercase letters.`, `This was checked by the validation rule at main.tf.json:`, `"address":"var.prefix"`} {
		if !strings.Contains(d, want) {
			t.Errorf("diagnostics %s lack %s", d, want)
		}
	}
}

func TestLiteralConditionIsRefused(t *testing.T) {
	module := `{"variable": {"n": {"type": "number", "default": 1, "validation": [{"condition": "var.n > 0", "error_message": "n > 0"}]}}}`
	d := diagnostics(run(t, map[string]string{"variables.tf.json": module}, nil, nil))
	if !strings.Contains(d, "Invalid validation expression") {
		t.Errorf("diagnostics = %s", d)
	}
}

func TestUnknownFunctionNamesItWithFileAndLine(t *testing.T) {
	module := "{\n  \"locals\": {\n    \"x\": \"${frobnicate(1)}\"\n  }\n}"
	d := diagnostics(run(t, map[string]string{"main.tf.json": module}, nil, nil))
	for _, want := range []string{`There is no function named \"frobnicate\"`, `"filename":"main.tf.json"`, `"line":3`} {
		if !strings.Contains(d, want) {
			t.Errorf("diagnostics %s lack %s", d, want)
		}
	}
}

func TestForEachAndComputedRulesSeeOnlySelf(t *testing.T) {
	module := `{"resource": {"aws_topic": {"t": {"for_each": {"a": "x", "b": "y"}, "name": "${each.key}-${each.value}"}}},
	  "output": {"names": {"value": "${[for k, t in aws_topic.t : t.arn]}"}}}`
	out := run(t, map[string]string{"main.tf.json": module}, nil, map[string]map[string]string{"aws_topic": {"arn": `"arn:${self.name}"`}})
	if d := diagnostics(out); d != "[]" {
		t.Fatalf("diagnostics: %s", d)
	}
	names := out["outputs"].(map[string]any)["names"].([]any)
	if len(names) != 2 || names[0] != "arn:a-x" || names[1] != "arn:b-y" {
		t.Errorf("names = %v", names)
	}
	bad := run(t, map[string]string{"main.tf.json": module}, nil, map[string]map[string]string{"aws_topic": {"arn": `var.x`}})
	if d := diagnostics(bad); !strings.Contains(d, "Invalid computed rule") {
		t.Errorf("diagnostics = %s", d)
	}
}
