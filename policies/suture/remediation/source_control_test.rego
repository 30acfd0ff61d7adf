# Tests of the source-control rules (source_control.rego): pull requests only from suture/
# branches, never merged, a revert only of the failed commit with a known-good predecessor,
# and revert_commit always approved by a human unless data says otherwise.
# Uses the table harness of decision_test.rego (same package).
package suture.remediation_test

import data.suture.remediation

sc_failed_commit := "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"

sc_good_commit := "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"

sc_source := {
	"provider": "github",
	"repository": "acme/payments",
	"branch": "main",
	"revision": sc_failed_commit,
	"last_success_revision": sc_good_commit,
}

sc_revert(parameters) := {
	"incident": {"class": "test_failure"},
	"proposal": {"action": "revert_commit", "parameters": parameters},
	"context": {"source": sc_source},
}

sc_patch(parameters) := {
	"incident": {"class": "test_failure"},
	"proposal": {"action": "open_patch_proposal", "parameters": object.union(
		{"title": "Restore retries", "patch": "--- a/x\n+++ b/x\n"},
		parameters,
	)},
	"context": {"source": sc_source},
}

sc_approved_revert := object.union(sc_revert({"commit": sc_failed_commit}), {"context": {"approval": {"approved": true, "approver": "dave", "action": "revert_commit"}}})

test_source_control_rules if expect_all(source_control_cases)

source_control_cases := {
	"a revert of the failed commit needs a human": {
		"patch": sc_revert({"commit": sc_failed_commit}),
		"allow": false, "require_approval": true, "codes": {"action_requires_approval", "mode_suggest"},
	},
	"an approved revert runs": {
		"patch": sc_approved_revert,
		"allow": true, "require_approval": false, "codes": {"action_requires_approval", "approved", "mode_suggest"},
	},
	"a revert in an auto class still needs a human": {
		"patch": sc_revert({"commit": sc_failed_commit}),
		"classes": {"test_failure": {"mode": "auto", "actions": ["revert_commit"], "action_modes": {}, "budget": {"fingerprint_24h": 1, "pipeline_1h": 3}}},
		"allow": false, "require_approval": true, "codes": {"action_requires_approval"},
	},
	"a revert of another commit is denied": {
		"patch": sc_revert({"commit": sc_good_commit}),
		"allow": false, "require_approval": false, "codes": {"revert_not_failed_commit"},
	},
	"a revert without a known-good predecessor is denied": {
		"patch": object.union(sc_revert({"commit": sc_failed_commit}), {"context": {"source": {"last_success_revision": ""}}}),
		"allow": false, "require_approval": false, "codes": {"revert_without_known_good"},
	},
	"a revert without any source in the context is denied twice": {
		"patch": {"incident": {"class": "test_failure"}, "proposal": {"action": "revert_commit", "parameters": {"commit": sc_failed_commit}}},
		"allow": false, "require_approval": false, "codes": {"revert_not_failed_commit", "revert_without_known_good"},
	},
	"a revert from a suture/ branch is fine": {
		"patch": sc_revert({"commit": sc_failed_commit, "branch": "suture/inc-0001"}),
		"allow": false, "require_approval": true, "codes": {"action_requires_approval", "mode_suggest"},
	},
	"a patch from a suture/ branch is a hand-off": {
		"patch": sc_patch({"branch": "suture/inc-0001"}),
		"allow": true, "require_approval": false, "codes": {"handoff_allowed"},
	},
	"a patch pushed to another branch is denied": {
		"patch": sc_patch({"branch": "hotfix/x"}),
		"allow": false, "require_approval": false, "codes": {"branch_not_suture"},
	},
	"the bare suture/ prefix is not a branch": {
		"patch": sc_patch({"branch": "suture/"}),
		"allow": false, "require_approval": false, "codes": {"branch_not_suture"},
	},
	"a patch pushed to the default branch is denied twice": {
		"patch": sc_patch({"branch": "main"}),
		"allow": false, "require_approval": false, "codes": {"branch_not_suture", "branch_protected"},
	},
	"a source whose branch is under suture/ is still protected": {
		"patch": object.union(sc_patch({"branch": "suture/release"}), {"context": {"source": {"branch": "suture/release"}}}),
		"allow": false, "require_approval": false, "codes": {"branch_protected"},
	},
	"a patch asking to merge is denied": {
		"patch": sc_patch({"auto_merge": true}),
		"allow": false, "require_approval": false, "codes": {"merge_forbidden", "parameter_not_allowed"},
	},
}

test_protected_branch_from_pipeline_data if {
	decision := remediation.decision with input as case_input({"patch": sc_patch({"branch": "suture/keep"})})
		with data.suture.config.pipelines["123456789012"]["us-west-2"].myPipeline.protected_branches as ["suture/keep"]
	codes_of(decision) == {"branch_protected"}
}

test_revert_messages if {
	decision := decide({"patch": sc_revert({"commit": sc_good_commit})})
	decision.reasons == [{"code": "revert_not_failed_commit", "msg": sprintf("commit %v is not the failed execution's commit %v", [sc_good_commit, sc_failed_commit])}]
}

test_data_can_waive_the_revert_approval if {
	auto := {"test_failure": {"mode": "auto", "actions": ["revert_commit"], "action_modes": {}, "budget": {"fingerprint_24h": 1, "pipeline_1h": 3}}}
	decision := remediation.decision with input as case_input({"patch": sc_revert({"commit": sc_failed_commit})})
		with data.suture.config.classes as object.union(data.suture.config.classes, auto)
		with data.suture.config.actions.revert_commit.requires_approval as false
	decision.allow == true
	codes_of(decision) == {"auto_allowed"}
}
