# METADATA
# title: Suture infrastructure rules
# description: |
#   Policy-as-code on Suture's own infrastructure, evaluated with opa eval over the
#   synthesised Terraform JSON (input: the configuration, with resource and data blocks). Not
#   part of the remediation bundle: .manifest's roots leave this package out.
#   Every violation carries a stable code and a message from the METADATA of its rule.
package suture.infra

# METADATA
# title: Violations
# description: Every rule the configuration breaks, as {code, msg}; empty when it complies.
# entrypoint: true
violations := sort_violations(deny)

sort_violations(set) := [{"code": code, "msg": msg} |
	some code in sort({v.code | some v in set})
	some msg in sort({v.msg | some v in set; v.code == code})
]

violation(metadata, args) := {"code": metadata.custom.code, "msg": sprintf(metadata.custom.msg, args)}

resources(type) := object.get(object.get(input, "resource", {}), type, {})

# The attribute is absent, null or empty.
blank(obj, key) if object.get(obj, key, "") in {"", null}

# Policy statements from aws_iam_policy_document data sources and from literal JSON policies
# (a policy that is a reference to a document is checked through the document).
statements contains {"where": sprintf("data.aws_iam_policy_document.%s", [name]), "statement": statement} if {
	some name, document in object.get(object.get(input, "data", {}), "aws_iam_policy_document", {})
	some statement in object.get(document, "statement", [])
}

statements contains {"where": sprintf("%s.%s", [type, name]), "statement": statement} if {
	some type, named in object.get(input, "resource", {})
	some name, resource in named
	is_string(resource.policy)
	json.is_valid(resource.policy)
	some statement in as_list(object.get(json.unmarshal(resource.policy), "Statement", []))
}

as_list(value) := value if is_array(value)

as_list(value) := [value] if not is_array(value)

allows(statement) if lower(object.get(statement, "effect", object.get(statement, "Effect", "Allow"))) == "allow"

actions_of(statement) := as_list(object.get(statement, "actions", object.get(statement, "Action", [])))

# Wildcards that only ever match reads are tolerated; every other wildcard may match a write.
read_only_prefixes := ["Get", "List", "Describe", "BatchGet"]

mutating_wildcard(action) if action == "*"

mutating_wildcard(action) if {
	contains(action, "*")
	parts := split(action, ":")
	count(parts) == 2
	not read_only_pattern(parts[1])
}

read_only_pattern(name) if {
	some prefix in read_only_prefixes
	startswith(name, prefix)
	name != "*"
}

# METADATA
# title: Wildcard on mutating actions
# description: An Allow statement grants a wildcard action that can match a write.
# custom:
#   code: wildcard_mutating_action
#   msg: "%s allows %s: name exact actions"
deny contains violation(rego.metadata.rule(), [entry.where, action]) if {
	some entry in statements
	allows(entry.statement)
	some action in actions_of(entry.statement)
	mutating_wildcard(action)
}

secrets_read := {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}

# METADATA
# title: IAM or Secrets Manager write
# description: No statement may grant IAM actions or Secrets Manager writes.
# custom:
#   code: iam_or_secrets_write
#   msg: "%s allows %s: IAM and Secrets Manager writes are never granted"
deny contains violation(rego.metadata.rule(), [entry.where, action]) if {
	some entry in statements
	allows(entry.statement)
	some action in actions_of(entry.statement)
	forbidden_action(action)
}

forbidden_action(action) if startswith(lower(action), "iam:")

forbidden_action(action) if {
	startswith(lower(action), "secretsmanager:")
	not action in secrets_read
}

# METADATA
# title: DynamoDB table not encrypted with KMS
# description: Every table has server-side encryption with a customer managed key.
# custom:
#   code: table_unencrypted
#   msg: "aws_dynamodb_table.%s lacks KMS server-side encryption"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, table in resources("aws_dynamodb_table")
	not table_encrypted(table)
}

table_encrypted(table) if {
	some sse in as_list(object.get(table, "server_side_encryption", []))
	sse.enabled == true
	not blank(sse, "kms_key_arn")
}

# METADATA
# title: SNS topic not encrypted
# description: Every topic names a KMS key.
# custom:
#   code: topic_unencrypted
#   msg: "aws_sns_topic.%s lacks kms_master_key_id"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, topic in resources("aws_sns_topic")
	blank(topic, "kms_master_key_id")
}

# METADATA
# title: SQS queue not encrypted with KMS
# description: Every queue names a KMS key.
# custom:
#   code: queue_unencrypted
#   msg: "aws_sqs_queue.%s lacks kms_master_key_id"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, queue in resources("aws_sqs_queue")
	blank(queue, "kms_master_key_id")
}

# A bucket's companion resources reference it as ${aws_s3_bucket.<name>.id} (or .bucket), or,
# when the bucket has a count, as ${aws_s3_bucket.<name>[0].id}.
for_bucket(companion, name) if contains(companion.bucket, sprintf("aws_s3_bucket.%s.", [name]))

for_bucket(companion, name) if contains(companion.bucket, sprintf("aws_s3_bucket.%s[0].", [name]))

# METADATA
# title: S3 bucket not encrypted with KMS
# description: Every bucket has a server-side encryption configuration with aws:kms.
# custom:
#   code: bucket_unencrypted
#   msg: "aws_s3_bucket.%s has no aws:kms server-side encryption configuration"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, _ in resources("aws_s3_bucket")
	not bucket_encrypted(name)
}

bucket_encrypted(name) if {
	some _, configuration in resources("aws_s3_bucket_server_side_encryption_configuration")
	for_bucket(configuration, name)
	some rule in as_list(configuration.rule)
	rule.apply_server_side_encryption_by_default.sse_algorithm == "aws:kms"
}

# METADATA
# title: Public S3 bucket
# description: Every bucket blocks all public access and grants no public ACL.
# custom:
#   code: bucket_public
#   msg: "aws_s3_bucket.%s is not fully blocked from public access"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, bucket in resources("aws_s3_bucket")
	bucket_public(name, bucket)
}

bucket_public(name, _) if not public_access_blocked(name)

bucket_public(_, bucket) if bucket.acl in {"public-read", "public-read-write"}

public_access_blocked(name) if {
	some _, block in resources("aws_s3_bucket_public_access_block")
	for_bucket(block, name)
	block.block_public_acls == true
	block.block_public_policy == true
	block.ignore_public_acls == true
	block.restrict_public_buckets == true
}

# METADATA
# title: Lambda function not traced
# description: Every function has X-Ray active tracing.
# custom:
#   code: lambda_untraced
#   msg: "aws_lambda_function.%s lacks tracing_config mode Active"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, fn in resources("aws_lambda_function")
	object.get(object.get(fn, "tracing_config", {}), "mode", "PassThrough") != "Active"
}

# METADATA
# title: State machine not traced
# description: Every state machine has X-Ray tracing enabled.
# custom:
#   code: state_machine_untraced
#   msg: "aws_sfn_state_machine.%s lacks tracing_configuration enabled"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, machine in resources("aws_sfn_state_machine")
	object.get(object.get(machine, "tracing_configuration", {}), "enabled", false) != true
}

# METADATA
# title: Log group without retention
# description: Every log group sets retention_in_days.
# custom:
#   code: log_retention_missing
#   msg: "aws_cloudwatch_log_group.%s lacks retention_in_days"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, group in resources("aws_cloudwatch_log_group")
	not retention_set(group)
}

retention_set(group) if group.retention_in_days > 0

retention_set(group) if is_string(group.retention_in_days)

# METADATA
# title: Lambda function logging to an implicit log group
# description: Every function logs to a log group the configuration manages (so it has a retention).
# custom:
#   code: lambda_log_group_missing
#   msg: "aws_lambda_function.%s lacks logging_config.log_group"
deny contains violation(rego.metadata.rule(), [name]) if {
	some name, fn in resources("aws_lambda_function")
	blank(object.get(fn, "logging_config", {}), "log_group")
}

# Lambda runtime identifiers AWS has deprecated (modules/functions/runtime.ts keeps the same set
# for the construct's own check; a test keeps the two equal).
deprecated_runtimes := {
	"nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x",
	"nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x", "nodejs20.x",
	"python2.7", "python3.6", "python3.7", "python3.8", "python3.9",
	"java8", "go1.x", "provided",
	"ruby2.5", "ruby2.7", "ruby3.2",
	"dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet5.0", "dotnet6", "dotnet7",
}

# METADATA
# title: Lambda function on a deprecated runtime
# description: No function runs on a runtime AWS Lambda has deprecated.
# custom:
#   code: lambda_runtime_deprecated
#   msg: "aws_lambda_function.%s uses the deprecated runtime %s"
deny contains violation(rego.metadata.rule(), [name, fn.runtime]) if {
	some name, fn in resources("aws_lambda_function")
	fn.runtime in deprecated_runtimes
}
