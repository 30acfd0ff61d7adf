# METADATA
# title: Tests of the Suture infrastructure rules
# description: |
#   Table-driven: every case merges a patch into one compliant configuration (a table, a
#   topic, a queue, an encrypted private bucket, a traced function with its log group, a traced
#   state machine and least-privilege policies) and names the exact set of codes expected.
package suture.infra_test

import data.suture.infra

compliant := {
	"data": {"aws_iam_policy_document": {"fn": {"statement": [
		{"sid": "Read", "effect": "Allow", "actions": ["dynamodb:GetItem", "logs:Describe*"], "resources": ["arn:aws:dynamodb:::table/t"]},
		{"sid": "TlsOnly", "effect": "Deny", "actions": ["s3:*"], "resources": ["*"]},
	]}}},
	"resource": {
		"aws_dynamodb_table": {"t": {"server_side_encryption": {"enabled": true, "kms_key_arn": "${aws_kms_key.k.arn}"}}},
		"aws_sns_topic": {"n": {"kms_master_key_id": "${aws_kms_key.k.arn}"}},
		"aws_sqs_queue": {"q": {"kms_master_key_id": "${aws_kms_key.k.arn}"}},
		"aws_s3_bucket": {"b": {"bucket_prefix": "evidence-"}},
		"aws_s3_bucket_server_side_encryption_configuration": {"b": {
			"bucket": "${aws_s3_bucket.b.id}",
			"rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
		}},
		"aws_s3_bucket_public_access_block": {"b": {
			"bucket": "${aws_s3_bucket.b.id}",
			"block_public_acls": true,
			"block_public_policy": true,
			"ignore_public_acls": true,
			"restrict_public_buckets": true,
		}},
		"aws_lambda_function": {"f": {
			"runtime": "nodejs24.x",
			"tracing_config": {"mode": "Active"},
			"logging_config": {"log_format": "JSON", "log_group": "${aws_cloudwatch_log_group.f.name}"},
		}},
		"aws_cloudwatch_log_group": {"f": {"retention_in_days": 30}, "v": {"retention_in_days": "${var.log_retention_days}"}},
		"aws_sfn_state_machine": {"m": {"tracing_configuration": {"enabled": true}}},
		"aws_iam_role_policy": {"p": {"policy": "${data.aws_iam_policy_document.fn.json}"}},
	},
}

policy(statement) := json.marshal({"Version": "2012-10-17", "Statement": statement})

cases := [
	{"name": "compliant", "patch": {}, "want": set()},
	{
		"name": "wildcard action in a document",
		"patch": {"data": {"aws_iam_policy_document": {"w": {"statement": [{"actions": ["s3:Put*"], "resources": ["*"]}]}}}},
		"want": {"wildcard_mutating_action"},
	},
	{
		"name": "full wildcard in a literal policy",
		"patch": {"resource": {"aws_iam_role_policy": {"x": {"policy": policy([{"Effect": "Allow", "Action": "*", "Resource": "*"}])}}}},
		"want": {"wildcard_mutating_action"},
	},
	{
		"name": "service wildcard in a literal policy statement object",
		"patch": {"resource": {"aws_iam_role_policy": {"x": {"policy": policy({"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"})}}}},
		"want": {"wildcard_mutating_action"},
	},
	{
		"name": "read-only wildcards and denied wildcards pass",
		"patch": {"resource": {"aws_iam_role_policy": {"x": {"policy": policy([
			{"Effect": "Allow", "Action": ["ec2:Describe*", "s3:List*", "s3:Get*", "dynamodb:BatchGet*"], "Resource": "*"},
			{"Effect": "Deny", "Action": "*", "Resource": "*"},
		])}}}},
		"want": set(),
	},
	{
		"name": "IAM action",
		"patch": {"data": {"aws_iam_policy_document": {"i": {"statement": [{"actions": ["iam:PassRole"], "resources": ["arn:aws:iam::1:role/r"]}]}}}},
		"want": {"iam_or_secrets_write"},
	},
	{
		"name": "Secrets Manager write",
		"patch": {"data": {"aws_iam_policy_document": {"s": {"statement": [{"effect": "Allow", "actions": ["secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"], "resources": ["arn:aws:secretsmanager:::secret:s"]}]}}}},
		"want": {"iam_or_secrets_write"},
	},
	{
		"name": "table without encryption",
		"patch": {"resource": {"aws_dynamodb_table": {"u": {}}}},
		"want": {"table_unencrypted"},
	},
	{
		"name": "table encrypted with the AWS owned key",
		"patch": {"resource": {"aws_dynamodb_table": {"u": {"server_side_encryption": [{"enabled": true}]}}}},
		"want": {"table_unencrypted"},
	},
	{
		"name": "topic without a key",
		"patch": {"resource": {"aws_sns_topic": {"u": {"name": "x"}}}},
		"want": {"topic_unencrypted"},
	},
	{
		"name": "queue with an empty key",
		"patch": {"resource": {"aws_sqs_queue": {"u": {"kms_master_key_id": ""}}}},
		"want": {"queue_unencrypted"},
	},
	{
		"name": "bucket without encryption or public access block",
		"patch": {"resource": {"aws_s3_bucket": {"u": {}}}},
		"want": {"bucket_unencrypted", "bucket_public"},
	},
	{
		"name": "bucket encrypted with AES256 only",
		"patch": {"resource": {
			"aws_s3_bucket": {"u": {}},
			"aws_s3_bucket_server_side_encryption_configuration": {"u": {"bucket": "${aws_s3_bucket.u.id}", "rule": {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}}},
			"aws_s3_bucket_public_access_block": {"u": {
				"bucket": "${aws_s3_bucket.u.bucket}",
				"block_public_acls": true,
				"block_public_policy": true,
				"ignore_public_acls": true,
				"restrict_public_buckets": true,
			}},
		}},
		"want": {"bucket_unencrypted"},
	},
	{
		"name": "counted bucket whose companions reference its instance",
		"patch": {"resource": {
			"aws_s3_bucket": {"c": {"count": "${local.n}"}},
			"aws_s3_bucket_server_side_encryption_configuration": {"c": {"count": "${local.n}", "bucket": "${aws_s3_bucket.c[0].id}", "rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}]}},
			"aws_s3_bucket_public_access_block": {"c": {
				"count": "${local.n}",
				"bucket": "${aws_s3_bucket.c[0].id}",
				"block_public_acls": true,
				"block_public_policy": true,
				"ignore_public_acls": true,
				"restrict_public_buckets": true,
			}},
		}},
		"want": set(),
	},
	{
		"name": "counted bucket whose companions reference another instance",
		"patch": {"resource": {
			"aws_s3_bucket": {"c": {"count": 2}},
			"aws_s3_bucket_server_side_encryption_configuration": {"c": {"bucket": "${aws_s3_bucket.c[1].id}", "rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}]}},
		}},
		"want": {"bucket_unencrypted", "bucket_public"},
	},
	{
		"name": "bucket with a partial public access block",
		"patch": {"resource": {"aws_s3_bucket_public_access_block": {"b": {"restrict_public_buckets": false}}}},
		"want": {"bucket_public"},
	},
	{
		"name": "bucket with a public ACL",
		"patch": {"resource": {"aws_s3_bucket": {"b": {"acl": "public-read"}}}},
		"want": {"bucket_public"},
	},
	{
		"name": "function without tracing",
		"patch": {"resource": {"aws_lambda_function": {"g": {"logging_config": {"log_group": "g"}}}}},
		"want": {"lambda_untraced"},
	},
	{
		"name": "function with pass-through tracing and no log group",
		"patch": {"resource": {"aws_lambda_function": {"f": {"tracing_config": {"mode": "PassThrough"}, "logging_config": {"log_format": "Text", "log_group": ""}}}}},
		"want": {"lambda_untraced", "lambda_log_group_missing"},
	},
	{
		"name": "function on Node.js 20, deprecated",
		"patch": {"resource": {"aws_lambda_function": {"f": {"runtime": "nodejs20.x"}}}},
		"want": {"lambda_runtime_deprecated"},
	},
	{
		"name": "function on Python 3.9, deprecated",
		"patch": {"resource": {"aws_lambda_function": {"f": {"runtime": "python3.9"}}}},
		"want": {"lambda_runtime_deprecated"},
	},
	{
		"name": "container image function without a runtime, and a supported runtime",
		"patch": {"resource": {"aws_lambda_function": {"i": {
			"package_type": "Image",
			"tracing_config": {"mode": "Active"},
			"logging_config": {"log_group": "${aws_cloudwatch_log_group.f.name}"},
		}}}},
		"want": set(),
	},
	{
		"name": "state machine without tracing",
		"patch": {"resource": {"aws_sfn_state_machine": {"m": {"tracing_configuration": {"enabled": false}}}}},
		"want": {"state_machine_untraced"},
	},
	{
		"name": "log groups without retention",
		"patch": {"resource": {"aws_cloudwatch_log_group": {"f": {"retention_in_days": 0}, "w": {}}}},
		"want": {"log_retention_missing"},
	},
	{
		"name": "empty configuration",
		"raw_input": {},
		"want": set(),
	},
]

case_input(case) := case.raw_input if "raw_input" in object.keys(case)

case_input(case) := object.union(compliant, case.patch) if not "raw_input" in object.keys(case)

codes(case) := {v.code | some v in infra.violations with input as case_input(case)}

test_cases if {
	failures := [sprintf("%s: want %v, got %v", [case.name, case.want, codes(case)]) |
		some case in cases
		codes(case) != case.want
	]
	count(failures) == 0
}

test_violations_are_sorted_and_explained if {
	got := infra.violations with input as object.union(compliant, {"resource": {"aws_sns_topic": {"a": {}, "b": {}}, "aws_sqs_queue": {"a": {}}}})
	got == [
		{"code": "queue_unencrypted", "msg": "aws_sqs_queue.a lacks kms_master_key_id"},
		{"code": "topic_unencrypted", "msg": "aws_sns_topic.a lacks kms_master_key_id"},
		{"code": "topic_unencrypted", "msg": "aws_sns_topic.b lacks kms_master_key_id"},
	]
}

test_deprecated_runtime_is_named if {
	got := infra.violations with input as object.union(compliant, {"resource": {"aws_lambda_function": {"f": {"runtime": "nodejs18.x"}}}})
	got == [{"code": "lambda_runtime_deprecated", "msg": "aws_lambda_function.f uses the deprecated runtime nodejs18.x"}]
}
