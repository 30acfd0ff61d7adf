# The loop deciding with this organisation's own policy: policy/ is a copy of the project's
# policies/ with flaky tests downgraded to "suggest" (a human approves every retry) and one more
# Rego rule (a stage retry may only rerun the failed actions). Build and pin it first:
#
#   node dist/cli/suture.js policy test  --policy-dir examples/with-own-policy/policy
#   node dist/cli/suture.js policy build --policy-dir examples/with-own-policy/policy \
#     --out examples/with-own-policy/build/bundle.tar.gz        # prints its sha256
#   terraform apply -var policy_bundle_sha256=<that sha256>
#
# The sha256 comes from the build (your release pipeline), not from the file at plan time: the
# module refuses to plan when the file differs from it, and the gate refuses to load other bytes.
# The module is the release archive (docs/module.md, "Publishing"): in your own code use
#   source = "https://github.com/<owner>/suture/releases/download/v0.1.0/suture-module-0.1.0.tar.gz"
# Here it is that archive unpacked: npm run package:module (writes build/suture-module).

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.25.0, < 7.0.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type        = string
  default     = "us-west-2"
  description = "Region of the loop and of the pipelines it watches."
}

variable "policy_bundle_sha256" {
  type        = string
  description = "SHA-256 of build/bundle.tar.gz, as `suture policy build` printed it."
}

variable "policy_public_key_pem" {
  type        = string
  default     = null
  description = "PEM public key of a signed bundle (policy build --signing-key ... --key-id ci-policy); null for an unsigned one."
}

module "suture" {
  source = "../../build/suture-module"

  pipelines = [
    { name = "myPipeline" },
    { name = "release-pipeline", protected_stages = ["Prod"] },
  ]
  notification_emails = ["ci-oncall@example.com"]

  policy_bundle = {
    path             = "${path.module}/build/bundle.tar.gz"
    sha256           = var.policy_bundle_sha256
    verification_key = var.policy_public_key_pem
    key_id           = var.policy_public_key_pem == null ? null : "ci-policy"
  }

  # Smoke checks are on by default; this one also runs the team's own probe.
  smoke_checks = {
    buildspec = <<-YAML
      version: 0.2
      phases:
        build:
          commands:
            - test -n "$SUTURE_PIPELINE"
            - failed=$(aws codepipeline get-pipeline-state --name "$SUTURE_PIPELINE" --query "length(stageStates[?latestExecution.status=='Failed'])" --output text)
            - test "$failed" = "0"
    YAML
  }
}

output "policy_bundle_uri" {
  value       = module.suture.policy_bundle_uri
  description = "Where the gate reads this organisation's bundle."
}

output "policy_bundle_sha256" {
  value       = module.suture.policy_bundle_sha256
  description = "The SHA-256 the gate pins."
}
