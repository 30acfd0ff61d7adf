# The loop watching two pipelines, with one release-health alarm, emailing the on-call team.
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

module "suture" {
  source = "../../build/suture-module"

  name_prefix = "suture"
  pipelines = [
    { name = "myPipeline" },
    { name = "release-pipeline", protected_stages = ["Prod"] },
  ]
  release_health_alarms = [
    { alarm_name = "release-pipeline-5xx", pipeline = "release-pipeline", stage = "Prod" },
  ]
  notification_emails = ["ci-oncall@example.com"]
  log_retention_days  = 30
  tags                = { team = "platform", cost-center = "ci" }
}

output "state_machine_arn" {
  value       = module.suture.state_machine_arn
  description = "ARN of the workflow state machine."
}

output "approval_function_url" {
  value       = module.suture.approval_function_url
  description = "Approval callback URL (SigV4-signed requests only)."
}

output "sns_topic_arn" {
  value       = module.suture.sns_topic_arn
  description = "Where escalations and approval requests are published."
}
