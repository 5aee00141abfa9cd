# address-api's infrastructure, as the seed's "Terraform apply" step
# changes it on every release: a new ECS task definition revision with the
# release's image, the service updated to it (rolling deployment: 100 % /
# 200 %, circuit breaker with rollback, 60 s health check grace period),
# and the task's secret taken from Secrets Manager.
#
# A stand-in that works offline: the AWS provider cannot be downloaded
# here, so the built-in terraform_data resource runs ecs-deploy.sh, which
# makes the same ECS calls with the AWS CLI (against the sandbox's
# simulator when aws_endpoint_url is set).  A real team writes
# aws_ecs_task_definition and aws_ecs_service resources instead.

terraform {
  required_version = ">= 1.4"
}

variable "image" {
  type        = string
  description = "the image to run, e.g. <registry>/staging/address-api:v0.1.0-rc.1"
}

variable "image_tag" {
  type        = string
  description = "the release tag the image carries (gantry passes it)"
}

variable "environment" {
  type = string
}

variable "cluster" {
  type = string
}

variable "service" {
  type = string
}

variable "log_group" {
  type = string
}

variable "aws_region" {
  type    = string
  default = "ap-south-1"
}

variable "role_arn" {
  type        = string
  default     = ""
  description = "a role to assume for the ECS calls (empty: the caller's credentials)"
}

variable "aws_endpoint_url" {
  type        = string
  default     = ""
  description = "an AWS endpoint other than the real one (the local sandbox)"
}

variable "database_secret" {
  type    = string
  default = "address-api/database-url"
}

variable "desired_count" {
  type    = number
  default = 2
}

locals {
  version = trimprefix(var.image_tag, "v")
  containers = jsonencode([{
    name         = "address-api"
    image        = var.image
    essential    = true
    memory       = 128
    portMappings = [{ containerPort = 8080 }]
    environment = [
      { name = "APP_VERSION", value = local.version },
      { name = "APP_ENV", value = var.environment },
      { name = "PORT", value = "8080" },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = var.log_group
        "awslogs-region"        = var.aws_region
        "awslogs-stream-prefix" = "ecs"
      }
    }
  }])
}

# A new revision and a service update whenever the containers change
# (ECS task definitions are immutable: every release replaces this).
resource "terraform_data" "task_definition" {
  triggers_replace = {
    image      = var.image
    version    = local.version
    cluster    = var.cluster
    service    = var.service
    containers = sha256(local.containers)
  }

  provisioner "local-exec" {
    command     = "sh ./ecs-deploy.sh"
    working_dir = path.module
    environment = {
      FAMILY          = var.service
      CONTAINERS      = local.containers
      CLUSTER         = var.cluster
      SERVICE         = var.service
      DESIRED_COUNT   = var.desired_count
      REGION          = var.aws_region
      ROLE_ARN        = var.role_arn
      ENDPOINT_URL    = var.aws_endpoint_url
      DATABASE_SECRET = var.database_secret
    }
  }
}

output "image" {
  value = var.image
}

output "version" {
  value = local.version
}
