# Suture remediation decision, source-control rules.
#
# Rules of the actions that open pull requests (open_patch_proposal, revert_commit). Kept in
# their own file of the same package (maintained with the executor's GitHub code): they only
# add deny and approval reasons to the decision in decision.rego. The executor always works
# on a branch under suture/, cut from the failed commit, and never merges; these rules keep a
# proposal from asking for anything else.
package suture.remediation

pull_request_actions := {"open_patch_proposal", "revert_commit"}

# The source the evidence names (input.context.source, written by the planner from
# $.evidence.source). Absent fields count as empty.
source_fact(name) := context.source[name] if non_empty_string(context.source[name])

default source_fact(_) := ""

# METADATA
# title: Branch outside suture/
# description: Pull requests come only from branches under suture/; Suture pushes nowhere else.
# custom:
#   code: branch_not_suture
#   msg: "branch %v is not under suture/"
deny contains reason(rego.metadata.rule(), [branch]) if {
	proposal.action in pull_request_actions
	branch := proposal.parameters.branch
	not suture_branch(branch)
}

suture_branch(branch) if {
	is_string(branch)
	startswith(branch, "suture/")
	count(branch) > count("suture/")
}

# METADATA
# title: Branch is protected
# description: |
#   A pull request's own branch is never the pipeline's branch (its default branch) nor a
#   branch the pipeline's data lists as protected.
# custom:
#   code: branch_protected
#   msg: "branch %v is the pipeline's branch or a protected branch"
deny contains reason(rego.metadata.rule(), [branch]) if {
	proposal.action in pull_request_actions
	branch := proposal.parameters.branch
	protected_branch(branch)
}

protected_branch(branch) if branch == source_fact("branch")

protected_branch(branch) if branch in object.get(pipeline_spec, "protected_branches", [])

# METADATA
# title: Merging is not Suture's
# description: A pull request is opened for review; Suture never merges it, not even on a request to.
# custom:
#   code: merge_forbidden
#   msg: "action %v asks to merge; Suture only opens pull requests"
deny contains reason(rego.metadata.rule(), [proposal.action]) if {
	proposal.action in pull_request_actions
	some name in ["merge", "auto_merge", "merge_method"]
	object.get(proposal.parameters, name, null) != null
}

# METADATA
# title: Revert of another commit
# description: revert_commit reverts only the commit the failed execution ran.
# custom:
#   code: revert_not_failed_commit
#   msg: "commit %v is not the failed execution's commit %v"
deny contains reason(rego.metadata.rule(), [proposal.parameters.commit, failed]) if {
	proposal.action == "revert_commit"
	failed := source_fact("revision")
	proposal.parameters.commit != failed
}

# METADATA
# title: No known-good commit
# description: |
#   revert_commit is offered only when the evidence shows a later-failed commit's last
#   successful predecessor (context.source.last_success_revision); the executor also checks that
#   it is the reverted commit's parent before pushing anything.
# custom:
#   code: revert_without_known_good
#   msg: "no successful execution is known before commit %v"
deny contains reason(rego.metadata.rule(), [proposal.parameters.commit]) if {
	proposal.action == "revert_commit"
	source_fact("last_success_revision") == ""
}

# METADATA
# title: Action always needs approval
# description: |
#   The action's entry in data.suture.config.actions sets requires_approval (revert_commit does
#   by default): whatever the class's mode, a human approves it.
# custom:
#   code: action_requires_approval
#   msg: "action %v always needs approval"
approval_required contains reason(rego.metadata.rule(), [proposal.action]) if {
	action_spec.requires_approval == true
}
