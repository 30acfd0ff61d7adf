# METADATA
# title: Suture remediation decision
# description: |
#   Decides whether a proposed remediation may run now (allow), may run once a human
#   approves it (require_approval), or must not run (both false). Facts of the request are in
#   input; allow-lists, modes, budgets, scopes and thresholds are in data.suture.config.
#   Every reason carries a stable code taken from the METADATA of the rule that produced it.
package suture.remediation

config := data.suture.config

# METADATA
# title: Decision
# description: |
#   The one public decision of the bundle. Both flags false is a deny. It covers the whole
#   plan: the proposal (the first step) and its follow-up steps in input.then, each evaluated
#   by every rule below; a deny of any step denies the plan, an approval any step needs is
#   asked once for the plan, and only an approval bound to every step of the plan grants it.
# entrypoint: true
decision := {
	"allow": allow,
	"require_approval": require_approval,
	"mode": plan_mode,
	"reasons": reasons,
}

default allow := false

allow if {
	count(plan_deny) == 0
	count(plan_approval_required) == 0
}

allow if {
	count(plan_deny) == 0
	count(plan_approval_required) > 0
	approval_granted
}

default require_approval := false

require_approval if {
	count(plan_deny) == 0
	count(plan_approval_required) > 0
	not approval_granted
}

# Deny reasons come first: when anything denies, nothing else matters to the reader.
reasons := sort_reasons(plan_deny) if count(plan_deny) > 0

reasons := sort_reasons(plan_approval_required) if {
	count(plan_deny) == 0
	count(plan_approval_required) > 0
	not approval_granted
}

reasons := sort_reasons(plan_approval_required | approved) if {
	count(plan_deny) == 0
	count(plan_approval_required) > 0
	approval_granted
}

reasons := sort_reasons(plan_allowed) if {
	count(plan_deny) == 0
	count(plan_approval_required) == 0
}

# ---------------------------------------------------------------------------------------
# The plan: input.proposal is its first step, input.then (optional) the steps that follow,
# in order (a repair, then the resume that re-runs what failed). Every rule below judges one
# step, `proposal`; each step is judged with `input.proposal` replaced by it and
# `input.plan_step` saying where it stands ({index, after: the previous step's action}).
# The first step is judged with its own position too, so an input cannot claim one. A
# non-object input holds no plan and is judged as it is (it denies as malformed).
# ---------------------------------------------------------------------------------------

follow_ups := input.then if then_is_list

follow_ups := [] if not then_is_list

then_is_list if is_array(input.then)

plan_length := 1 + count(follow_ups)

step_result := {
	"deny": deny,
	"approval_required": approval_required,
	"allowed": allowed,
	"mode": effective_mode,
}

first_result := result if {
	input_is_object
	result := step_result with input.plan_step as {"index": 0, "after": null}
}

first_result := step_result if not input_is_object

# A helper, not `not is_object(input)`: with no input at all, that expression is undefined.
input_is_object if is_object(input)

# The results of the follow-up steps, each with its reasons labelled by the step.
follow_up_results := [labelled |
	some i, step in follow_ups
	result := step_result with input.proposal as step with input.plan_step as {"index": i + 1, "after": action_of(previous_step(i))}
	labelled := {
		"deny": {label(i + 2, step, r) | some r in result.deny},
		"approval_required": {label(i + 2, step, r) | some r in result.approval_required},
		"allowed": {label(i + 2, step, r) | some r in result.allowed},
		"mode": result.mode,
	}
]

step_results := array.concat([first_result], follow_up_results)

previous_step(0) := input.proposal

previous_step(i) := follow_ups[i - 1] if i > 0

action_of(step) := object.get(step, "action", null) if is_object(step)

action_of(step) := null if not is_object(step)

label(number, step, r) := {"code": r.code, "msg": sprintf("step %v (%v): %v", [number, printable(action_of(step)), r.msg])}

plan_deny := ({r | some result in step_results; some r in result.deny} | plan_shape_deny) | plan_approval_deny

plan_approval_required := {r | some result in step_results; some r in result.approval_required}

plan_allowed := {r | some result in step_results; some r in result.allowed}

# The strictest mode of any step is the plan's mode; "none" (no policy for the class) is strictest.
mode_strictness := {"none": 0, "observe": 1, "suggest": 2, "auto": 3}

plan_mode := mode if {
	some result in step_results
	mode := result.mode
	every other in step_results {
		mode_strictness[other.mode] >= mode_strictness[mode]
	}
}

# The first step is position 0 unless the evaluation says otherwise (see above).
plan_step_index := object.get(input, ["plan_step", "index"], 0) if input_is_object

plan_step_index := 0 if not input_is_object

first_step if plan_step_index == 0

step_after := object.get(input, ["plan_step", "after"], null)

# METADATA
# title: Plan malformed
# description: input.then, when present, must be a list of follow-up steps.
# custom:
#   code: plan_invalid
#   msg: "then must be a list of follow-up steps, not %v"
plan_shape_deny contains reason(rego.metadata.rule(), [input.then]) if {
	input_is_object
	"then" in object.keys(input)
	not then_is_list
}

# METADATA
# title: Whole-stage retry
# description: This organisation retries only the failed actions of a stage, never all of them.
# custom:
#   code: retry_all_actions_refused
#   msg: "retry_mode %v is not allowed here: retry FAILED_ACTIONS only"
deny contains reason(rego.metadata.rule(), [proposal.parameters.retry_mode]) if {
	proposal_valid
	proposal.action == "retry_stage"
	proposal.parameters.retry_mode == "ALL_ACTIONS"
}

# METADATA
# title: Plan too long
# description: |
#   A plan has at most data.suture.config.plan_max_steps steps; when data holds no number
#   there, a plan is one step (missing data fails closed).
# custom:
#   code: plan_too_long
#   msg: "the plan has %v steps; at most %v are allowed"
plan_shape_deny contains reason(rego.metadata.rule(), [plan_length, plan_max_steps]) if {
	plan_length > plan_max_steps
}

plan_max_steps := config.plan_max_steps if max_steps_configured

plan_max_steps := 1 if not max_steps_configured

max_steps_configured if is_number(config.plan_max_steps)

# ---------------------------------------------------------------------------------------
# The approval covers the plan: it names the first step's action and, for a plan of more
# than one step, lists every step's action and parameters exactly as they are evaluated.
# An approval of the first step alone cannot authorise a second step, nor an approved plan
# a different one.
# ---------------------------------------------------------------------------------------

plan_summary := [{"action": action_of(step), "parameters": object.get(step, "parameters", null)} |
	some step in array.concat([input.proposal], follow_ups)
	is_object(step)
]

approval_covers_plan if {
	plan_length == 1
	not "steps" in object.keys(context.approval)
}

approval_covers_plan if context.approval.steps == plan_summary

approval_granted if {
	context.approval.approved == true
	non_empty_string(context.approval.approver)
	context.approval.action == input.proposal.action
	approval_covers_plan
}

# METADATA
# title: Approval rejected
# description: A human rejected this plan; a rejection of another action does not apply.
# custom:
#   code: approval_rejected
#   msg: "approval rejected by %v"
plan_approval_deny contains reason(rego.metadata.rule(), [object.get(context.approval, "approver", "(unknown)")]) if {
	context.approval.approved == false
	context.approval.action == input.proposal.action
}

# Ordered by code, then message, so every evaluator (Go, wasm) returns the same list: every
# reason is an object with exactly the keys code and msg, and sort compares such objects by
# code first, then by msg.
sort_reasons(set) := sort(set)

reason(metadata, args) := {"code": metadata.custom.code, "msg": sprintf(metadata.custom.msg, [printable(arg) | some arg in args])}

# Messages quote whatever the input carried. Strings and numbers print as they are; any other
# value (null, objects, lists from malformed input) prints as JSON, which every sprintf
# implementation handles the same way.
printable(value) := value if is_string(value)

printable(value) := value if is_number(value)

printable(value) := json.marshal(value) if {
	not is_string(value)
	not is_number(value)
}

# ---------------------------------------------------------------------------------------
# Input shape. Everything below assumes these; a missing or mistyped field denies.
# ---------------------------------------------------------------------------------------

incident := input.incident

proposal := input.proposal

context := input.context

action_spec := config.actions[proposal.action]

class_spec := config.classes[incident.class]

# Only an explicit `"mutating": false` makes an action a hand-off; missing data counts as mutating.
mutating if {
	action_spec
	not action_spec.mutating == false
}

non_empty_string(x) if {
	is_string(x)
	x != ""
}

unit_interval(x) if {
	is_number(x)
	x >= 0
	x <= 1
}

non_negative(x) if {
	is_number(x)
	x >= 0
}

incident_valid if {
	is_object(incident)
	every field in ["id", "pipeline", "execution_id", "account", "region", "class", "fingerprint"] {
		non_empty_string(incident[field])
	}
	is_string(incident.stage)
	is_string(incident.action)
	unit_interval(incident.confidence)
}

proposal_valid if {
	is_object(proposal)
	non_empty_string(proposal.action)
	is_object(proposal.parameters)
	proposal.source in {"playbook", "model"}
	is_string(proposal.rationale)
	unit_interval(proposal.confidence)
}

context_valid if {
	is_object(context)
	is_string(context.now)
	time.parse_rfc3339_ns(context.now)
	non_negative(context.attempts.fingerprint_24h)
	non_negative(context.attempts.pipeline_1h)
	non_negative(context.recent_failed_validations)
	is_boolean(context.stage_protected)
	is_boolean(context.rollback_target_succeeded)
	is_object(context.pipeline_tags)
}

# ---------------------------------------------------------------------------------------
# Deny rules
# ---------------------------------------------------------------------------------------

# METADATA
# title: Incident missing or malformed
# description: The incident lacks a required field or a field has the wrong type.
# custom:
#   code: input_invalid_incident
#   msg: "incident is missing or malformed (needs id, pipeline, stage, action, execution_id, account, region, class, confidence 0..1, fingerprint)"
deny contains reason(rego.metadata.rule(), []) if not incident_valid

# METADATA
# title: Proposal missing or malformed
# description: The proposal lacks a required field or a field has the wrong type.
# custom:
#   code: input_invalid_proposal
#   msg: "proposal is missing or malformed (needs action, parameters object, source playbook|model, rationale, confidence 0..1)"
deny contains reason(rego.metadata.rule(), []) if not proposal_valid

# METADATA
# title: Context missing or malformed
# description: The context lacks a required field or a field has the wrong type.
# custom:
#   code: input_invalid_context
#   msg: "context is missing or malformed (needs now as RFC 3339, attempts, recent_failed_validations, stage_protected, rollback_target_succeeded, pipeline_tags)"
deny contains reason(rego.metadata.rule(), []) if not context_valid

# METADATA
# title: Unknown action
# description: Only actions listed in data.suture.config.actions can ever run.
# custom:
#   code: action_unknown
#   msg: "action %v is not an action Suture can perform"
deny contains reason(rego.metadata.rule(), [proposal.action]) if {
	proposal_valid
	not action_spec
}

# METADATA
# title: Unknown failure class
# description: The incident's class has no entry in data.suture.config.classes.
# custom:
#   code: class_unknown
#   msg: "failure class %v has no policy"
deny contains reason(rego.metadata.rule(), [incident.class]) if {
	incident_valid
	not class_spec
}

# METADATA
# title: Action not allowed for the class
# description: Each failure class allows a short list of actions as a plan's first step.
# custom:
#   code: action_not_allowed_for_class
#   msg: "action %v is not allowed for failure class %v"
deny contains reason(rego.metadata.rule(), [proposal.action, incident.class]) if {
	action_spec
	class_spec
	first_step
	not proposal.action in class_spec.actions
}

# METADATA
# title: Step may not follow
# description: |
#   A follow-up step must be one the class lists in resume_after for the step before it:
#   only the repair → resume shapes the policy knows (revert a parameter, then re-run) form a plan.
# custom:
#   code: plan_step_not_allowed
#   msg: "%v may not follow %v in a plan for failure class %v"
deny contains reason(rego.metadata.rule(), [proposal.action, step_after, incident.class]) if {
	proposal_valid
	class_spec
	not first_step
	not proposal.action in object.get(class_spec, ["resume_after", step_after], [])
}

# METADATA
# title: Pipeline out of scope
# description: Only pipelines listed under their account and region in data are in scope.
# custom:
#   code: out_of_scope
#   msg: "pipeline %v in account %v region %v is not in Suture's scope"
deny contains reason(rego.metadata.rule(), [incident.pipeline, incident.account, incident.region]) if {
	incident_valid
	not pipeline_spec
}

pipeline_spec := config.pipelines[incident.account][incident.region][incident.pipeline]

# METADATA
# title: Parameter not allowed
# description: The proposal carries a parameter that the action's schema does not define.
# custom:
#   code: parameter_not_allowed
#   msg: "parameter %v is not defined for action %v"
deny contains reason(rego.metadata.rule(), [name, proposal.action]) if {
	action_spec
	some name, _ in proposal.parameters
	not action_spec.parameters[name]
}

# METADATA
# title: Required parameter missing
# description: The action's schema marks this parameter as required.
# custom:
#   code: parameter_missing
#   msg: "parameter %v is required for action %v"
deny contains reason(rego.metadata.rule(), [name, proposal.action]) if {
	action_spec
	is_object(proposal.parameters)
	some name, spec in action_spec.parameters
	spec.required == true
	not name in object.keys(proposal.parameters)
}

# METADATA
# title: Parameter has the wrong type or value
# description: The parameter's value does not match the action's schema.
# custom:
#   code: parameter_invalid
#   msg: "parameter %v of action %v must be a %v%v"
deny contains reason(rego.metadata.rule(), [name, proposal.action, spec.type, one_of_hint(spec)]) if {
	action_spec
	some name, value in proposal.parameters
	spec := action_spec.parameters[name]
	not parameter_value_valid(spec, value)
}

parameter_value_valid(spec, value) if {
	type_name(value) == spec.type
	not spec.one_of
	not empty_string(value)
	within_bounds(spec, value)
}

parameter_value_valid(spec, value) if {
	type_name(value) == spec.type
	value in spec.one_of
}

empty_string(value) if value == ""

within_bounds(_, value) if not is_number(value)

within_bounds(spec, value) if {
	is_number(value)
	value >= object.get(spec, "minimum", value)
	value <= object.get(spec, "maximum", value)
	integral_if_required(spec, value)
}

integral_if_required(spec, _) if not spec.integer

integral_if_required(spec, value) if {
	spec.integer
	round(value) == value
}

one_of_hint(spec) := sprintf(" (one of %v)", [concat(", ", spec.one_of)]) if spec.one_of

one_of_hint(spec) := "" if not spec.one_of

# METADATA
# title: Target mismatch
# description: A proposal may only act on the pipeline and stage of its own incident.
# custom:
#   code: target_mismatch
#   msg: "parameter %v is %v but the incident is about %v"
deny contains reason(rego.metadata.rule(), [name, proposal.parameters[name], incident[name]]) if {
	incident_valid
	some name in ["pipeline", "stage"]
	is_object(proposal.parameters)
	proposal.parameters[name] != incident[name]
}

# METADATA
# title: Execution mismatch
# description: Retry and stop act on the incident's own pipeline execution only.
# custom:
#   code: target_mismatch_execution
#   msg: "execution_id %v is not the incident's execution %v"
deny contains reason(rego.metadata.rule(), [proposal.parameters.execution_id, incident.execution_id]) if {
	incident_valid
	is_object(proposal.parameters)
	proposal.parameters.execution_id != incident.execution_id
}

# METADATA
# title: Parameter outside the revertible prefixes
# description: Only SSM parameters under the pipeline's configured prefixes can be reverted.
# custom:
#   code: parameter_out_of_scope
#   msg: "SSM parameter %v is not under a revertible prefix of pipeline %v"
deny contains reason(rego.metadata.rule(), [name, incident.pipeline]) if {
	proposal.action == "revert_parameter"
	name := proposal.parameters.parameter_name
	not revertible(name)
}

revertible(name) if {
	is_string(name)
	some prefix in pipeline_spec.revertible_parameter_prefixes
	startswith(name, prefix)
	not contains(name, "..")
}

# METADATA
# title: Forbidden parameter
# description: Proposals never carry commands, policies, roles or secrets, whatever the mode.
# custom:
#   code: forbidden_parameter
#   msg: "parameter key %v is forbidden in any proposal"
deny contains reason(rego.metadata.rule(), [key]) if {
	walk(proposal.parameters, [path, _])
	count(path) > 0
	key := path[count(path) - 1]
	is_string(key)
	lower(key) in config.forbidden.parameter_keys
}

# METADATA
# title: Touches IAM or secrets
# description: A proposal whose values mention IAM or secret stores is denied whatever the mode.
# custom:
#   code: forbidden_iam_or_secrets
#   msg: "parameter %v refers to IAM or a secret store"
deny contains reason(rego.metadata.rule(), [top_key]) if {
	may_touch_iam_or_secrets
	some top_key, texts in parameter_texts
	some text in texts
	some marker in config.forbidden.iam_and_secret_markers
	contains(text, marker)
}

# METADATA
# title: Privilege escalation intent
# description: |
#   A value that asks to grant privileges (a granting verb followed within a few words by a
#   privileged role, as in "grant admin" or "give root access") is denied whatever the mode.
#   Word order and distance keep ordinary hand-offs ("escalate to the on-call admin") allowed.
# custom:
#   code: forbidden_escalation_intent
#   msg: "parameter %v asks for elevated privileges"
deny contains reason(rego.metadata.rule(), [top_key]) if {
	may_ask_for_privileges
	some top_key, texts in parameter_texts
	some text in texts
	words := word_list(text)
	some i, verb in words
	verb in escalation_verbs
	some j, object in words
	object in escalation_objects
	j > i
	j - i <= config.forbidden.escalation_intent.max_distance
}

# METADATA
# title: Free-form command
# description: |
#   A proposal that would run a free-form command is denied whatever the mode. Parameters
#   the schema marks free_text (a patch for review, a reason) are prose and are not read as commands.
# custom:
#   code: forbidden_command
#   msg: "parameter %v looks like a free-form command"
deny contains reason(rego.metadata.rule(), [top_key]) if {
	may_hold_command
	some top_key, texts in parameter_texts
	not action_spec.parameters[top_key].free_text
	looks_like_command(top_key, texts)
}

looks_like_command(top_key, _) if count(parameter_words[top_key] & command_words) > 0

looks_like_command(_, texts) if {
	some text in texts
	some marker in config.forbidden.command_markers
	contains(text, marker)
}

# METADATA
# title: Remote code execution
# description: |
#   A value that fetches code or decodes a payload and runs it is denied whatever the mode and
#   whatever the parameter, free text included: a patch for review that adds `curl … | bash`
#   to a buildspec runs a stranger's code with the build role on the first build after the
#   merge, and a reviewer who reads a diff for logic easily misses one install line. Commands
#   that only fetch (a health check) or only run local code (`python -m pytest`, `npm ci`,
#   `node scripts/build.js`) stay allowed in free text.
# custom:
#   code: forbidden_remote_code
#   msg: "parameter %v fetches or decodes code and runs it"
deny contains reason(rego.metadata.rule(), [top_key]) if {
	may_run_remote_code
	some top_key, texts in parameter_texts
	some text in texts
	runs_remote_code(shell_text(text))
}

# Content rules use string builtins and set intersections, not regex.match: the wasm
# runtime recompiles every regular expression on each evaluation (~150 µs apiece), which
# would dwarf the rest of the decision.
#
# Most proposals hold nothing suspicious, so every string of the proposal is first lowered,
# joined and tokenised once, and the three content rules above look at parameters one by one
# only when that whole-proposal screen finds something. The screen never misses what the
# per-parameter check would find: each string is a substring of the joined text (so every
# marker it contains is found), and the strings are joined with a space, which always splits
# words (so the joined text's words are exactly the union of each string's words). It may
# over-report (a marker spanning two strings); the per-parameter check then decides.
proposal_text := lower(concat(" ", [leaf | walk(proposal.parameters, [_, leaf]); is_string(leaf)]))

proposal_words := {word | some word in word_list(proposal_text)}

may_touch_iam_or_secrets if {
	some marker in config.forbidden.iam_and_secret_markers
	contains(proposal_text, marker)
}

may_ask_for_privileges if {
	count(proposal_words & escalation_verbs) > 0
	count(proposal_words & escalation_objects) > 0
}

may_hold_command if count(proposal_words & command_words) > 0

may_hold_command if {
	some marker in config.forbidden.command_markers
	contains(proposal_text, marker)
}

# The remote-code screen reads the whole proposal as a shell would (see shell_text) and opens
# when it holds a word that fetches, decodes or runs an encoded command. shell_text works
# character by character and never joins two leaves (they are joined by a space), so the words
# of the screened text are exactly the union of each normalised string's words, and
# runs_remote_code needs one of those words in the string it judges.
may_run_remote_code if count(words_of(shell_text(proposal_text)) & remote_code_triggers) > 0

parameter_texts[top_key] := [lower(leaf) | walk(value, [_, leaf]); is_string(leaf)] if {
	some top_key, value in proposal.parameters
}

parameter_words[top_key] := {word |
	some text in texts
	some word in word_list(text)
} if {
	some top_key, texts in parameter_texts
}

word_list(text) := [word | some word in split(strings.replace_n(separator_spaces, text), " "); word != ""]

separator_spaces := {separator: " " | some separator in config.forbidden.token_separators}

escalation_verbs := {verb | some verb in config.forbidden.escalation_intent.verbs}

escalation_objects := {object | some object in config.forbidden.escalation_intent.objects}

command_words := {word | some word in config.forbidden.command_words}

# METADATA
# title: Observe mode
# description: The class (or the pipeline's tag) is in observe mode; the incident is recorded only.
# custom:
#   code: mode_observe
#   msg: "failure class %v is in observe mode: record only"
deny contains reason(rego.metadata.rule(), [incident.class]) if {
	class_spec
	effective_mode == "observe"
}

# METADATA
# title: Fingerprint budget exhausted
# description: This failure already used its attempts in the last 24 hours.
# custom:
#   code: budget_exhausted_fingerprint
#   msg: "fingerprint already had %v attempts in 24 h (budget %v)"
deny contains reason(rego.metadata.rule(), [used, budget]) if {
	mutating
	used := context.attempts.fingerprint_24h
	is_number(used)
	budget := object.get(class_spec, ["budget", "fingerprint_24h"], 0)
	used >= budget
}

# METADATA
# title: Pipeline budget exhausted
# description: The pipeline already used its attempts in the last hour.
# custom:
#   code: budget_exhausted_pipeline
#   msg: "pipeline already had %v attempts in 1 h (budget %v)"
deny contains reason(rego.metadata.rule(), [used, budget]) if {
	mutating
	used := context.attempts.pipeline_1h
	is_number(used)
	budget := object.get(class_spec, ["budget", "pipeline_1h"], 0)
	used >= budget
}

# METADATA
# title: Change freeze
# description: During a change-freeze window only exempt actions (rollback) may run.
# custom:
#   code: change_freeze
#   msg: "change freeze %v is in force; only %v may run"
deny contains reason(rego.metadata.rule(), [freeze.name, concat(", ", config.freeze_exempt_actions)]) if {
	mutating
	not proposal.action in config.freeze_exempt_actions
	some freeze in active_freezes
}

active_freezes contains freeze if {
	context_valid
	some freeze in config.change_freezes
	valid_freeze(freeze)
	now := time.parse_rfc3339_ns(context.now)
	freeze_applies_to_pipeline(freeze)
	now >= time.parse_rfc3339_ns(freeze.start)
	now < time.parse_rfc3339_ns(freeze.end)
}

# METADATA
# title: Invalid change freeze in data
# description: A freeze whose times do not parse would silently never apply, so it denies instead.
# custom:
#   code: config_invalid_freeze
#   msg: "change freeze %v in data needs a name and RFC 3339 start and end"
deny contains reason(rego.metadata.rule(), [freeze_label(freeze)]) if {
	some freeze in config.change_freezes
	not valid_freeze(freeze)
}

valid_freeze(freeze) if {
	non_empty_string(freeze.name)
	is_string(freeze.start)
	is_string(freeze.end)
	time.parse_rfc3339_ns(freeze.start)
	time.parse_rfc3339_ns(freeze.end)
	freeze_pipelines_valid(freeze)
}

# A pipelines entry that is not a list of names would match no pipeline, so the freeze would
# silently never apply.
freeze_pipelines_valid(freeze) if not "pipelines" in object.keys(freeze)

freeze_pipelines_valid(freeze) if {
	is_array(freeze.pipelines)
	every name in freeze.pipelines {
		non_empty_string(name)
	}
}

# A freeze entry that is not an object has no name, and object.get would fail on it (the
# deny would then silently not happen).
freeze_label(freeze) := object.get(freeze, "name", "(unnamed)") if is_object(freeze)

freeze_label(freeze) := "(unnamed)" if not is_object(freeze)

freeze_applies_to_pipeline(freeze) if not freeze.pipelines

freeze_applies_to_pipeline(freeze) if incident.pipeline in freeze.pipelines

# METADATA
# title: Rollback target not a prior success
# description: A rollback may only go back to an execution that succeeded in the stage.
# custom:
#   code: rollback_target_unverified
#   msg: "rollback target %v is not verified as a prior successful execution"
deny contains reason(rego.metadata.rule(), [object.get(proposal.parameters, "target_execution_id", "(none)")]) if {
	proposal.action == "rollback_stage"
	not context.rollback_target_succeeded == true
}

# ---------------------------------------------------------------------------------------
# Modes. Mutating actions run on their own only in auto mode. Non-mutating actions
# (escalate, open a patch for review) ask nobody: they are themselves the hand-off to a human.
# ---------------------------------------------------------------------------------------

configured_modes contains class_spec.mode

configured_modes contains class_spec.action_modes[proposal.action]

# A tag value that names no mode ("off", "Observe", a typo) reads as observe like any unknown
# mode: whoever set the tag meant to hold Suture back, so ignoring it would fail open.
configured_modes contains context.pipeline_tags[config.pipeline_mode_tag]

# The strictest configured mode wins; an unknown mode string reads as observe.
configured_rank := min({rank | some m in configured_modes; rank := object.get(config.modes, m, 0)})

demoted if {
	configured_rank == config.modes.auto
	context.recent_failed_validations > config.thresholds.max_recent_failed_validations
}

default effective_mode := "none"

effective_mode := "observe" if configured_rank == config.modes.observe

effective_mode := "suggest" if configured_rank == config.modes.suggest

effective_mode := "suggest" if demoted

effective_mode := "auto" if {
	configured_rank == config.modes.auto
	not demoted
}

# ---------------------------------------------------------------------------------------
# Approval rules: the action may run once a human approves.
# ---------------------------------------------------------------------------------------

# METADATA
# title: Suggest mode
# description: The class runs this action only with a human's approval.
# custom:
#   code: mode_suggest
#   msg: "failure class %v runs %v only with approval"
approval_required contains reason(rego.metadata.rule(), [incident.class, proposal.action]) if {
	mutating
	configured_rank == config.modes.suggest
}

# METADATA
# title: Class demoted
# description: A recent remediation of this class failed validation, so auto is demoted to suggest.
# custom:
#   code: class_demoted
#   msg: "failure class %v had %v recent failed validations: demoted from auto to suggest"
approval_required contains reason(rego.metadata.rule(), [incident.class, context.recent_failed_validations]) if {
	mutating
	demoted
}

# METADATA
# title: Protected stage
# description: Protected stages need approval for everything except a rollback to a prior success.
# custom:
#   code: stage_protected
#   msg: "stage %v of %v is protected"
approval_required contains reason(rego.metadata.rule(), [incident.stage, incident.pipeline]) if {
	mutating
	stage_protected
	not verified_rollback
}

stage_protected if incident.stage in pipeline_spec.protected_stages

stage_protected if context.stage_protected == true

verified_rollback if {
	proposal.action == "rollback_stage"
	context.rollback_target_succeeded == true
}

# METADATA
# title: Uncertain classification
# description: The failure class was assigned with low confidence.
# custom:
#   code: classification_low_confidence
#   msg: "classification confidence %v is below %v"
approval_required contains reason(rego.metadata.rule(), [incident.confidence, threshold]) if {
	mutating
	threshold := config.thresholds.classification_min_confidence
	incident.confidence < threshold
}

# METADATA
# title: Uncertain model proposal
# description: A model's proposal below the confidence threshold needs a human.
# custom:
#   code: model_low_confidence
#   msg: "model proposal confidence %v is below %v"
approval_required contains reason(rego.metadata.rule(), [proposal.confidence, threshold]) if {
	mutating
	proposal.source == "model"
	threshold := config.thresholds.model_min_confidence
	proposal.confidence < threshold
}

# METADATA
# title: Model proposal without rationale
# description: A model's proposal must say why; one that does not needs a human.
# custom:
#   code: model_no_rationale
#   msg: "model proposal has no rationale"
approval_required contains reason(rego.metadata.rule(), []) if {
	mutating
	proposal.source == "model"
	trim_space(proposal.rationale) == ""
}

# ---------------------------------------------------------------------------------------
# Reasons for an allow.
# ---------------------------------------------------------------------------------------

# METADATA
# title: Approved
# description: A human approved this exact plan (its first action, and every step when there are more).
# custom:
#   code: approved
#   msg: "approved by %v"
approved contains reason(rego.metadata.rule(), [context.approval.approver]) if approval_granted

# METADATA
# title: Allowed automatically
# description: Every rule passed and the class runs this action on its own.
# custom:
#   code: auto_allowed
#   msg: "%v is allowed for failure class %v in %v mode"
allowed contains reason(rego.metadata.rule(), [proposal.action, incident.class, effective_mode]) if mutating

# METADATA
# title: Hand-off allowed
# description: A non-mutating action hands the incident to humans and needs no approval.
# custom:
#   code: handoff_allowed
#   msg: "%v changes nothing and is allowed for failure class %v"
allowed contains reason(rego.metadata.rule(), [proposal.action, incident.class]) if not mutating

# ---------------------------------------------------------------------------------------
# Remote code in free text. A text is read the way a shell reads it: commands are split on
# newlines, `;`, `&&` and `||`, the pipelines of a line on `|`; words come from word_list, and tokens (split
# on white space only) keep paths and flags whole. The shapes denied:
#   - a pipeline stage that fetches or decodes, followed on the same line by a stage whose
#     command is a shell or interpreter (`curl … | sudo -E bash -s`, `base64 -d x | sh`, `iwr … | iex`);
#   - a shell or interpreter whose code is a substitution that fetches or decodes
#     (`bash <(curl …)`, `sh -c "$(wget -O- …)"`, `python -c "$(curl …)"`, `. <(curl …)`);
#   - an evaluator whose argument fetches or decodes (`eval "$(curl …)"`,
#     `Invoke-Expression (iwr …)`, `IEX(New-Object Net.WebClient).DownloadString(…)`,
#     `exec(urlopen(…).read())`);
#   - a file a fetch or decode wrote, later made executable, run by path, given to an
#     interpreter as its script or piped into one (`curl -o x.sh …; chmod +x x.sh; ./x.sh`);
#   - PowerShell with an encoded command (`powershell -enc …`).
# ---------------------------------------------------------------------------------------

remote_code := config.forbidden.remote_code

remote_code_triggers := ({word | some word in remote_code.fetchers} | object.keys(remote_code.decoders)) | {word |
	some word in remote_code.encoded_command.shells
}

interpreters := {word | some word in remote_code.interpreters}

evaluators := {word | some word in remote_code.evaluators}

# Line continuations joined; quotes and backslashes dropped, as a shell drops them
# (`c"ur"l`, `\curl` and 'curl' all run curl).
shell_text(text) := replace(
	replace(replace(replace(replace(text, "\\\r\n", " "), "\\\n", " "), "\\", ""), "\"", ""),
	"'", "",
)

words_of(text) := {word | some word in shell_words(text)}

# Words with their directories dropped: /usr/bin/curl is curl.
shell_words(text) := [last(split(word, "/")) | some word in word_list(text)]

runs_remote_code(text) if {
	count(words_of(text) & remote_code_triggers) > 0
	remote_code_in(shell_commands(text))
}

runs_remote_code(text) if {
	count(words_of(text) & remote_code_triggers) > 0
	piped_into_interpreter(split(replace(text, "\r", "\n"), "\n"))
}

shell_commands(text) := [command |
	some line in split(replace(replace(replace(replace(text, "\r", "\n"), "&&", "\n"), "||", "\n"), ";", "\n"), "\n")
	command := trim_space(line)
	command != ""
]

shell_tokens(text) := [token | some token in split(replace(text, "\t", " "), " "); token != ""]

# A token's command name: the last path segment, without brackets and without a version
# suffix (/usr/bin/python3.12 is python).
token_name(token) := trim_right(trim(last(split(token, "/")), "()`{}$<>&!"), "0123456789.")

last(list) := list[count(list) - 1]

file_name(token) := last(split(trim(token, "()`{}$<>&!"), "/"))

rest_of(list, i) := array.slice(list, i + 1, count(list))

fetches_or_decodes(words) if {
	some word in words
	word in remote_code.fetchers
}

fetches_or_decodes(words) if {
	some i, word in words
	flags := remote_code.decoders[word]
	decodes(flags, rest_of(words, i))
}

decodes(flags, _) if count(flags) == 0

decodes(flags, rest) if {
	some flag in flags
	flag in rest
}

# Tokens that come before a stage's command: diff and list markers, sudo, env, flags,
# assignments, a user name.
command_prefix(tokens, i) if trim(tokens[i], "+-") == ""

command_prefix(tokens, i) if token_name(tokens[i]) in remote_code.command_prefixes

command_prefix(tokens, i) if startswith(tokens[i], "-")

command_prefix(tokens, i) if contains(tokens[i], "=")

command_prefix(tokens, i) if {
	token_name(tokens[i]) == ""
	tokens[i] != "."
}

command_prefix(tokens, i) if tokens[i - 1] in {"-u", "-g", "--user", "--group"}

head_index(tokens) := min({i | some i, _ in tokens; not command_prefix(tokens, i)})

stage_tokens(command) := [shell_tokens(stage) | some stage in split(command, "|")]

interpreter_stage(tokens) if token_name(tokens[head_index(tokens)]) in interpreters

# A fetch or a decode piped into a shell or interpreter. Pipelines are read per line, not per
# command, so that a `;` or `&&` inside a quoted URL does not cut the fetch off its pipe.
piped_into_interpreter(lines) if {
	some line in lines
	stages := split(line, "|")
	some i, stage in stages
	fetches_or_decodes(shell_words(stage))
	some j, later in stages
	j > i
	interpreter_stage(shell_tokens(later))
}

# A shell or interpreter whose code is a substitution, or an evaluator whose argument is a
# call or a substitution, that fetches or decodes.
remote_code_in(commands) if {
	some command in commands
	some opener in remote_code.substitution_openers
	runs_substitution(command, opener, interpreters | evaluators)
}

remote_code_in(commands) if {
	some command in commands
	some opener in remote_code.evaluation_openers
	runs_substitution(command, opener, evaluators)
}

remote_code_in(commands) if {
	some command in commands
	words := shell_words(command)
	some i, word in words
	word in remote_code.encoded_command.shells
	some flag in rest_of(words, i)
	flag in remote_code.encoded_command.flags
}

remote_code_in(commands) if count(written_files(commands) & executed_files(commands)) > 0

runs_substitution(command, opener, runners) if {
	parts := split(command, opener)
	some k, _ in parts
	k > 0
	runs_what_follows(shell_tokens(concat(opener, array.slice(parts, 0, k))), runners)
	fetches_or_decodes(shell_words(concat(opener, array.slice(parts, k, count(parts)))))
}

# The runner's code is what follows: only flags (`-c`, `-s`) or a redirection lie between.
runs_what_follows(tokens, runners) if {
	some i, token in tokens
	runner(i, token, tokens, runners)
	every later in rest_of(tokens, i) {
		startswith(later, "-")
	}
}

runs_what_follows(tokens, runners) if {
	some i, token in tokens
	runner(i, token, tokens, runners)
	every later in rest_of(tokens, i) {
		startswith(later, "<")
	}
}

runner(_, token, _, runners) if token_name(token) in runners

runner(i, ".", tokens, _) if i == head_index(tokens)

# Files a fetch or a decode wrote: the argument of an output flag or a redirection, and the
# last path segment of each URL (wget and curl -O name the file after it).
written_files(commands) := {name |
	some command in commands
	fetches_or_decodes(shell_words(command))
	tokens := shell_tokens(command)
	some path in output_paths(tokens)
	name := file_name(path)
	not name in {"", "-"}
}

output_paths(tokens) := ({tokens[i + 1] | some i, token in tokens; output_flag(token)} | {trim_left(token, ">") |
	some token in tokens
	startswith(token, ">")
}) | {url_file(token) | some token in tokens; contains(token, "://")}

output_flag(token) if token in remote_code.output_flags

# Combined short flags that end in o take the output file next: curl -fsSLo file.
output_flag(token) if {
	startswith(token, "-")
	not startswith(token, "--")
	endswith(token, "o")
	count(token) > 2
}

url_file(url) := last(split(split(url, "?")[0], "/"))

# Files the text runs: made executable, run by path, given to an interpreter as its script,
# or read by a stage piped into an interpreter.
executed_files(commands) := union({
	chmod_targets(commands),
	run_paths(commands),
	interpreter_scripts(commands),
	piped_files(commands),
})

chmod_targets(commands) := {file_name(target) |
	some command in commands
	tokens := shell_tokens(command)
	some i, token in tokens
	token_name(token) == "chmod"
	executable_mode(tokens[i + 1])
	some target in rest_of(tokens, i + 1)
	not startswith(target, "-")
}

executable_mode(mode) if {
	not startswith(mode, "-")
	contains(mode, "x")
}

executable_mode(mode) if {
	trim(mode, "01234567") == ""
	count(mode) >= 3
	some digit in ["1", "3", "5", "7"]
	contains(mode, digit)
}

run_paths(commands) := {file_name(head) |
	some command in commands
	some tokens in stage_tokens(command)
	head := tokens[head_index(tokens)]
	some prefix in ["./", "/", "~/"]
	startswith(head, prefix)
}

interpreter_scripts(commands) := {file_name(trim_left(arguments[k], "<")) |
	some command in commands
	some tokens in stage_tokens(command)
	interpreter_stage(tokens)
	arguments := rest_of(tokens, head_index(tokens))
	k := min({i | some i, argument in arguments; not startswith(argument, "-"); argument != "<"})
	every flag in array.slice(arguments, 0, k) {
		not flag in remote_code.code_flags
	}
}

piped_files(commands) := {file_name(token) |
	some command in commands
	stages := stage_tokens(command)
	some j, later in stages
	interpreter_stage(later)
	some i, tokens in stages
	i < j
	some token in tokens
}

# ---------------------------------------------------------------------------------------
# Classification source. Kept as its own block (maintained with the classifier): a class
# that a model assigned, because no signature could read the log, never acts alone.
# ---------------------------------------------------------------------------------------

# METADATA
# title: Class assigned by a model
# description: |
#   The failure class came from the classifier's model fallback (input.incident.classification_source
#   is "model"), not from a signature. Whatever the model's confidence and the class's mode, a
#   mutating action on such a class needs a human. Any source other than "signature" counts as
#   not a signature; an absent source is a signature.
# custom:
#   code: classification_by_model
#   msg: "failure class %v was assigned by %v, not by a signature"
approval_required contains reason(rego.metadata.rule(), [incident.class, source]) if {
	mutating
	source := object.get(incident, "classification_source", "signature")
	source != "signature"
}
