"""state-backend: the S3 bucket and key that hold every package's Terraform state."""
