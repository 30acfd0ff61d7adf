# The loop with the Bedrock planner agent: for failures no playbook covers, the agent proposes
# one of the policy's allowed actions (return of control: it never executes), behind a
# guardrail. The account needs access to the foundation model in this region.
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
  default     = "us-east-1"
  description = "Region of the loop, its pipelines and the Bedrock agent."
}

variable "foundation_model" {
  type        = string
  default     = "anthropic.claude-3-5-sonnet-20240620-v1:0"
  description = "Foundation model id of the planner agent."
}

module "suture" {
  source = "../../build/suture-module"

  name_prefix = "suture-ai"
  pipelines   = [{ name = "myPipeline", revertible_parameter_prefixes = ["/myPipeline/", "/shared/feature-flags/"] }]
  bedrock = {
    foundation_model = var.foundation_model
    alias_name       = "live"
    timeout_ms       = 20000
  }
  notification_emails      = ["ci-oncall@example.com"]
  approval_timeout_seconds = 14400
  tags                     = { team = "platform" }
}

output "bedrock_agent_id" {
  value       = module.suture.bedrock_agent_id
  description = "Id of the planner agent."
}

output "bedrock_agent_alias_id" {
  value       = module.suture.bedrock_agent_alias_id
  description = "Alias the plan function calls."
}

output "state_machine_arn" {
  value       = module.suture.state_machine_arn
  description = "ARN of the workflow state machine."
}
