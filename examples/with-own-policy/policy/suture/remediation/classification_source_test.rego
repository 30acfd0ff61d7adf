# Tests of the classification-source rule (decision.rego, last block).
#
# A class assigned by the classifier's model fallback never acts without approval, whatever
# its confidence and mode; signature classes (source absent or "signature") are unaffected.
# Uses the table harness of decision_test.rego (same package).
package suture.remediation_test

test_model_assigned_class_needs_a_human if expect_all(classification_source_cases)

by_model := {"incident": {"classification_source": "model", "confidence": 0.99}}

classification_source_cases := {
	"signature class, source absent, runs on its own": {
		"patch": {},
		"allow": true, "require_approval": false, "codes": {"auto_allowed"},
	},
	"signature class, source named, runs on its own": {
		"patch": {"incident": {"classification_source": "signature"}},
		"allow": true, "require_approval": false, "codes": {"auto_allowed"},
	},
	"confident model class needs approval": {
		"patch": by_model,
		"allow": false, "require_approval": true, "codes": {"classification_by_model"},
	},
	"unrecognised source counts as not a signature": {
		"patch": {"incident": {"classification_source": "heuristic"}},
		"allow": false, "require_approval": true, "codes": {"classification_by_model"},
	},
	"model class with a low confidence gives both reasons": {
		"patch": object.union(by_model, {"incident": {"confidence": 0.5}}),
		"allow": false, "require_approval": true, "codes": {"classification_by_model", "classification_low_confidence"},
	},
	"model class approved by a human runs": {
		"patch": object.union(by_model, {"context": {"approval": {"approved": true, "approver": "dave", "action": "retry_stage"}}}),
		"allow": true, "require_approval": false, "codes": {"approved", "classification_by_model"},
	},
	"model class hand-off needs nobody": {
		"patch": object.union(by_model, escalation),
		"allow": true, "require_approval": false, "codes": {"handoff_allowed"},
	},
}

test_model_assigned_class_message if {
	decision := decide({"patch": by_model})
	decision.reasons == [{"code": "classification_by_model", "msg": "failure class transient_network was assigned by model, not by a signature"}]
}
