"""Test machinery of the verification ladder: synthesis once per session, queries, handlers,
Terraform, the emulator harness. Import what you need from the submodules."""
